// Paces a group's incoming shard data to a byte rate. A move at full speed takes the CPU and disk
// that the other shards' clients need (bench:shard: they keep about a third of their throughput
// while an 11 MB shard moves); an operator who would rather the move took longer sets a rate, as
// CockroachDB (kv.snapshot_rebalance.max_rate), TiKV (snap-io-max-bytes-per-sec) and Cassandra
// (stream_throughput_outbound) let one do for theirs.

import { assert } from '../base/assert.js'
import type { Clock, TimerHandle } from '../base/clock.js'

/** Spaces chunks so that a group's incoming shard data stays within `bytesPerSecond`, on `clock`. */
export class MigrationPacer {
  /** When the next chunk may start, on the clock: the previous chunks' bytes at the rate, from when each started. */
  private nextStartMs = Number.NEGATIVE_INFINITY
  /** Chunks waiting for their turn: a slow rate can hold one for minutes, so stop() lets them go. */
  private readonly waiting = new Map<TimerHandle, () => void>()

  constructor(
    private readonly bytesPerSecond: number,
    private readonly clock: Clock,
  ) {
    assert(Number.isFinite(bytesPerSecond) && bytesPerSecond > 0, () => `a migration rate must be a positive number of bytes per second, got ${bytesPerSecond}`)
  }

  /**
   * Waits until a chunk of `bytes` may go: at once if the chunks before it have had their time,
   * else when they have. Time left idle is not saved up for a later burst, so over any stretch of
   * chunks the rate holds, give or take the one chunk that starts it.
   */
  async take(bytes: number): Promise<void> {
    const now = this.clock.now()
    const start = Math.max(now, this.nextStartMs)
    this.nextStartMs = start + (bytes / this.bytesPerSecond) * 1000
    if (start <= now) return
    await new Promise<void>((resolve) => {
      const handle = this.clock.setTimeout(() => {
        this.waiting.delete(handle)
        resolve()
      }, start - now)
      this.waiting.set(handle, resolve)
    })
  }

  /** Lets every waiting chunk go at once (the server is stopping: its pulls see that and end), with no timer left behind. */
  stop(): void {
    for (const [handle, resolve] of this.waiting) {
      this.clock.clearTimeout(handle)
      resolve()
    }
    this.waiting.clear()
  }
}
