// A restartable one-shot timer on the injected Clock, for a connection's deadlines (idle, command
// arrival, unread output, close grace): at most one pending callback each, cancelled on close.

import type { Clock, TimerHandle } from '../base/clock.js'

export class Timer {
  private handle: TimerHandle | null = null

  constructor(private readonly clock: Clock) {}

  get running(): boolean {
    return this.handle !== null
  }

  /** Calls `fire` after `delayMs`, replacing any pending call. */
  start(delayMs: number, fire: () => void): void {
    this.stop()
    this.handle = this.clock.setTimeout(() => {
      this.handle = null
      fire()
    }, delayMs)
  }

  stop(): void {
    if (this.handle === null) return
    this.clock.clearTimeout(this.handle)
    this.handle = null
  }
}
