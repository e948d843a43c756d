// What one Raft node applied, as a process test or benchmark sees it: every command with its index
// and term, in index order, and a way to wait until the node has applied a given index.

import { type Clock, type TimerHandle, systemClock } from '../../src/base/clock.js'
import { assert } from '../../src/base/assert.js'
import type { AppliedCommand } from './raft-control.js'

interface IndexWaiter {
  readonly index: number
  readonly timer: TimerHandle
  readonly resolve: (applied: boolean) => void
}

export class AppliedLog {
  private readonly commands: AppliedCommand[] = []
  private appliedIndex = 0
  private waiters: IndexWaiter[] = []

  constructor(private readonly clock: Clock = systemClock) {}

  /** The last index applied (command or no-op). */
  get index(): number {
    return this.appliedIndex
  }

  /** Records what was applied at `index`: a command, or null for a no-op. */
  record(index: number, command: { term: number; data: Uint8Array } | null): void {
    assert(index === this.appliedIndex + 1, () => `applied index ${index} after ${this.appliedIndex}`)
    this.appliedIndex = index
    if (command) this.commands.push({ index, term: command.term, data: command.data })
    if (this.waiters.length === 0) return
    const ready = this.waiters.filter((waiter) => waiter.index <= index)
    if (ready.length === 0) return
    this.waiters = this.waiters.filter((waiter) => waiter.index > index)
    for (const waiter of ready) {
      this.clock.clearTimeout(waiter.timer)
      waiter.resolve(true)
    }
  }

  /** Up to `maxEntries` commands applied at `fromIndex` or after, in index order. */
  from(fromIndex: number, maxEntries: number): AppliedCommand[] {
    let low = 0
    let high = this.commands.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if ((this.commands[middle] as AppliedCommand).index < fromIndex) low = middle + 1
      else high = middle
    }
    return this.commands.slice(low, low + maxEntries)
  }

  /** Resolves true once `index` is applied, or false if `timeoutMs` passes first. */
  waitFor(index: number, timeoutMs: number): Promise<boolean> {
    if (index <= this.appliedIndex) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.timer !== timer)
        resolve(false)
      }, timeoutMs)
      this.waiters.push({ index, timer, resolve })
    })
  }
}
