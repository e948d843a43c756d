/** Opaque handle returned by Clock.setTimeout. */
export type TimerHandle = unknown

/**
 * The Clock seam: everything in lograft that waits or reads time does it through a Clock, so the
 * same code runs on real time ({@link systemClock}), under sinon fake timers, or on the
 * simulator's virtual time.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number
  /** Calls `callback` once, `delayMs` milliseconds from now on this clock. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle
  /** Cancels a timer; clearing one that already fired or was cleared does nothing. */
  clearTimeout(handle: TimerHandle): void
  /**
   * Runs `callback` soon, after the work already queued (other sockets' data, due timers): how a
   * node lets requests that arrive together be handled as one batch.
   */
  defer(callback: () => void): void
}

/**
 * Real time. It looks up the global timer functions at each call, not at import, so code driven
 * by it also runs under sinon's installed fake timers (`sinon.useFakeTimers()`).
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  defer: (callback) => void globalThis.setImmediate(callback),
}

/** A promise that resolves after `delayMs` on `clock`. */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, delayMs))
}
