// ReadIndex (§6.4 of the Raft thesis): a leader confirms it is still leader with one heartbeat round
// acknowledged by a quorum, then serves a read at the commit index it held when the round began.
// Reads share rounds: one round at a time is in flight, and every read that arrives meanwhile waits
// for the next, which starts the moment the current one is confirmed. So a leader under a heavy
// read load sends one heartbeat broadcast per round trip, not one per read.

import { quorumSize } from './quorum.js'

export type ReadOutcome = { id: number; index: number } | { id: number; error: 'not-leader' }

interface PendingRead {
  readonly id: number
  readonly round: number
  readonly index: number
}

export class ReadIndexTracker {
  /** The current round; every AppendEntries carries it and every reply acknowledges it. */
  round = 0
  private pending: PendingRead[] = []
  /** Reads that arrived while a round was in flight: they go in the next round. */
  private nextRound: number[] = []
  /** Reads waiting for the leader's first commit in its term (before that, commit may be stale). */
  private awaitingTermCommit: number[] = []
  private outcomes: ReadOutcome[] = []
  /** When each round not yet acknowledged by a quorum began, oldest first. */
  private roundStarts: Array<{ round: number; tick: number }> = []
  private leaseFromTick: number | null = null

  get hasAwaitingTermCommit(): boolean {
    return this.awaitingTermCommit.length > 0
  }

  awaitTermCommit(id: number): void {
    this.awaitingTermCommit.push(id)
  }

  /** Whether a round with reads is waiting for its quorum. */
  get roundInFlight(): boolean {
    return this.pending.length > 0
  }

  /** Keeps `id` for the round after the one in flight. */
  awaitNextRound(id: number): void {
    this.nextRound.push(id)
  }

  /** Once no round is in flight, opens one for the reads that waited; returns whether it did (the caller then sends heartbeats). */
  startNextRound(commitIndex: number, nowTick: number): boolean {
    if (this.pending.length > 0 || this.nextRound.length === 0) return false
    this.startRound(this.nextRound, commitIndex, nowTick)
    this.nextRound = []
    return true
  }

  /** Opens a round for `ids` at `commitIndex`, at tick `nowTick`; the caller then sends a heartbeat to every peer. */
  startRound(ids: readonly number[], commitIndex: number, nowTick: number): void {
    this.round++
    this.roundStarts.push({ round: this.round, tick: nowTick })
    for (const id of ids) this.pending.push({ id, round: this.round, index: commitIndex })
  }

  /** The tick at which the latest round a quorum acknowledged began (a lease runs from there); null if none in this term. */
  get quorumRoundTick(): number | null {
    return this.leaseFromTick
  }

  /** Moves reads that waited for a commit in this term into a new round; returns whether any did. */
  startAwaitingRound(commitIndex: number, nowTick: number): boolean {
    if (this.awaitingTermCommit.length === 0) return false
    this.startRound(this.awaitingTermCommit, commitIndex, nowTick)
    this.awaitingTermCommit = []
    return true
  }

  /** Confirms every pending read whose round a quorum (the leader included) has acknowledged. */
  confirm(memberCount: number, ackedRounds: readonly number[]): void {
    const needed = quorumSize(memberCount) - 1
    // The latest round a quorum acknowledged: the needed-th highest acknowledgement.
    const quorumRound = needed === 0 ? this.round : ([...ackedRounds].sort((a, b) => b - a)[needed - 1] ?? 0)
    while (this.roundStarts.length > 0 && (this.roundStarts[0] as { round: number }).round <= quorumRound) {
      this.leaseFromTick = (this.roundStarts.shift() as { tick: number }).tick
    }
    while (this.pending.length > 0) {
      const read = this.pending[0] as PendingRead
      const acks = ackedRounds.filter((round) => round >= read.round).length
      if (acks < needed) break
      this.pending.shift()
      this.outcomes.push({ id: read.id, index: read.index })
    }
  }

  /** Confirms a read immediately (a single-member cluster needs no round). */
  confirmNow(id: number, commitIndex: number): void {
    this.outcomes.push({ id, index: commitIndex })
  }

  reject(id: number): void {
    this.outcomes.push({ id, error: 'not-leader' })
  }

  /** The leader stepped down: no pending read can be confirmed any more, and its lease is gone. */
  rejectAll(): void {
    this.roundStarts = []
    this.leaseFromTick = null
    for (const read of this.pending) this.reject(read.id)
    for (const id of [...this.awaitingTermCommit, ...this.nextRound]) this.reject(id)
    this.pending = []
    this.awaitingTermCommit = []
    this.nextRound = []
  }

  takeOutcomes(): ReadOutcome[] {
    const out = this.outcomes
    this.outcomes = []
    return out
  }
}
