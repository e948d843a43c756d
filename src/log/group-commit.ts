// Group commit: while one synced batch is being written, later writes wait and then go to disk
// together as the next single synced batch, so N concurrent appends cost about two fsyncs, not N.

import { assert } from '../base/assert.js'

export type BatchOp = { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: Uint8Array }

interface PendingWrite {
  readonly ops: readonly BatchOp[]
  readonly bytes: number
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

/**
 * How well group commit coalesces a store's writes ({@link LogStore.groupCommitStats}): on
 * average, writes / batches of them share one synced batch.
 */
export interface GroupCommitStats {
  /** Writes submitted. */
  writes: number
  /** Batches handed to the database. */
  batches: number
}

export class GroupCommitQueue {
  private queue: PendingWrite[] = []
  private flushing: Promise<void> | null = null
  private failure: unknown = null
  private lastSettled: Promise<void> = Promise.resolve()
  readonly stats: GroupCommitStats = { writes: 0, batches: 0 }

  /**
   * @param writeBatch writes one batch durably; a rejection fails this write and every later one
   * @param maxBatchBytes coalescing stops once a batch holds this many bytes (a larger single
   *   write still goes, alone)
   */
  constructor(
    private readonly writeBatch: (ops: BatchOp[]) => Promise<void>,
    private readonly maxBatchBytes: number,
    private readonly onFailure: (error: unknown) => unknown,
  ) {
    assert(maxBatchBytes > 0, 'maxBatchBytes must be positive')
  }

  /** Resolves once `ops` are durable; writes become durable in submission order. */
  submit(ops: readonly BatchOp[], bytes: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure)
    this.stats.writes++
    const written = new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, bytes, resolve, reject })
      if (!this.flushing) this.flushing = this.flush()
    })
    // Waiters only need to know the write is over; its submitter hears about a failure.
    this.lastSettled = written.then(settled, settled)
    return written
  }

  /** Settles once every write submitted so far has been written or has failed. */
  written(): Promise<void> {
    return this.lastSettled
  }

  /** Drops every write not yet handed to the database, rejecting it with `reason`; refuses new ones. */
  abandon(reason: unknown): void {
    this.failure = reason
    for (const write of this.queue.splice(0)) write.reject(reason)
  }

  /** Resolves when everything submitted so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.takeGroup()
        const ops: BatchOp[] = []
        for (const write of group) for (const op of write.ops) ops.push(op)
        this.stats.batches++
        try {
          await this.writeBatch(ops)
        } catch (error) {
          this.failure = this.onFailure(error)
          for (const write of [...group, ...this.queue]) write.reject(this.failure)
          this.queue = []
          return
        }
        for (const write of group) write.resolve()
      }
    } finally {
      this.flushing = null
    }
  }

  private takeGroup(): PendingWrite[] {
    let bytes = 0
    let count = 0
    while (count < this.queue.length) {
      const next = this.queue[count] as PendingWrite
      if (count > 0 && bytes + next.bytes > this.maxBatchBytes) break
      bytes += next.bytes
      count++
    }
    return this.queue.splice(0, count)
  }
}

function settled(): void {}
