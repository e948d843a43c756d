// Virtual time for deterministic simulation. Timers fire in (due time, creation order); after each
// one the process's pending promise and nextTick work runs to completion before the next timer, so
// a run depends only on its inputs and seed, never on real time or scheduling noise.

import { assert } from '../base/assert.js'
import type { Clock, TimerHandle } from '../base/clock.js'
import { MinHeap } from './min-heap.js'

interface ScheduledTimer {
  readonly dueMs: number
  readonly sequence: number
  /** Replaced by a no-op once fired or cancelled, so the heap never keeps what it captured. */
  callback: () => void
  cancelled: boolean
}

function noop(): void {}

/** Bounds on a simulated run, so that a scenario that never finishes fails instead of running on. */
export interface RunLimits {
  /** Fail the run (SimulationTimeLimitError) if virtual time passes this many ms after it started. Default: no limit. */
  maxVirtualMs?: number
}

/** The scenario is still waiting, yet nothing is scheduled that could ever wake it. */
export class SimulationStalledError extends Error {
  readonly code = 'ERR_SIMULATION_STALLED'
}

/** The scenario ran past its virtual-time budget. */
export class SimulationTimeLimitError extends Error {
  readonly code = 'ERR_SIMULATION_TIME_LIMIT'
}

/** Lets every queued microtask and nextTick callback run, however long their chains. */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * A Clock on virtual time, starting at `startMs` (default 0). Time stands still except in `run` and
 * `advance`, which jump it from one due timer to the next; timers due at the same instant fire in
 * the order they were set, so the same inputs always give the same sequence of events.
 */
export class VirtualClock implements Clock {
  private nowMs: number
  private nextSequence = 0
  private readonly timers = new MinHeap<ScheduledTimer>((a, b) => a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.sequence < b.sequence))
  private liveTimers = 0
  private running = false
  /** Timer callbacks fired so far: a cheap fingerprint of a run. */
  firedTimers = 0

  constructor(startMs = 0) {
    this.nowMs = startMs
  }

  now(): number {
    return this.nowMs
  }

  /** Schedules `callback` `delayMs` of virtual time from now; a delay that is not a positive finite number counts as 0. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0
    const timer: ScheduledTimer = { dueMs: this.nowMs + delay, sequence: this.nextSequence++, callback, cancelled: false }
    this.timers.push(timer)
    this.liveTimers++
    return timer
  }

  /** At the current instant, after every timer already due: the simulated "next turn of the loop". */
  defer(callback: () => void): void {
    this.setTimeout(callback, 0)
  }

  /** Cancels a timer; does nothing for one that has fired or was cancelled already. */
  clearTimeout(handle: TimerHandle): void {
    const timer = handle as ScheduledTimer | undefined
    if (timer && !timer.cancelled) {
      timer.cancelled = true
      timer.callback = noop
      this.liveTimers--
      // Cancelled timers wait in the heap until they reach the top; when they are most of it,
      // drop them, so their callbacks (and what those hold) can be collected.
      if (this.timers.size > 1024 && this.liveTimers < this.timers.size / 2) this.timers.retain((t) => !t.cancelled)
    }
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.liveTimers
  }

  /**
   * Runs `scenario` to completion on virtual time: whenever everything in the process is idle,
   * time jumps to the next timer. Rejects with SimulationStalledError if the scenario waits with
   * no timer pending, or SimulationTimeLimitError if it overruns `maxVirtualMs`; one run at a time.
   */
  async run<T>(scenario: () => Promise<T>, limits: RunLimits = {}): Promise<T> {
    assert(!this.running, 'VirtualClock.run() is not reentrant')
    this.running = true
    const deadlineMs = this.nowMs + (limits.maxVirtualMs ?? Number.POSITIVE_INFINITY)
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined
    try {
      // Inside the try: a scenario that throws before returning its promise must still end the run.
      scenario().then(
        (value) => (outcome = { ok: true, value }),
        (error: unknown) => (outcome = { ok: false, error }),
      )
      for (;;) {
        await drainMicrotasks()
        if (outcome) break
        const timer = this.nextLiveTimer()
        if (!timer) {
          throw new SimulationStalledError(`simulation stalled at t=${this.nowMs}ms: the scenario waits but no timer is pending`)
        }
        if (timer.dueMs > deadlineMs) {
          throw new SimulationTimeLimitError(`simulation exceeded its limit of ${limits.maxVirtualMs}ms of virtual time`)
        }
        this.fire(timer)
      }
    } finally {
      this.running = false
    }
    if (!outcome.ok) throw outcome.error
    return outcome.value
  }

  /** Advances virtual time by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms
    for (;;) {
      await drainMicrotasks()
      const next = this.peekLiveTimer()
      if (!next || next.dueMs > targetMs) break
      this.timers.pop()
      this.fire(next)
    }
    this.nowMs = targetMs
    await drainMicrotasks()
  }

  private fire(timer: ScheduledTimer): void {
    this.nowMs = timer.dueMs
    timer.cancelled = true
    this.liveTimers--
    this.firedTimers++
    const callback = timer.callback
    timer.callback = noop
    callback()
  }

  private peekLiveTimer(): ScheduledTimer | undefined {
    let timer = this.timers.peek()
    while (timer?.cancelled) {
      this.timers.pop()
      timer = this.timers.peek()
    }
    return timer
  }

  private nextLiveTimer(): ScheduledTimer | undefined {
    const timer = this.peekLiveTimer()
    if (timer) this.timers.pop()
    return timer
  }
}
