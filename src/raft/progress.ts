// A leader's view of one follower: how much of the log it holds, and whether the leader is
// probing for the match point, pipelining appends, or sending a snapshot.

/** 'lost': the follower's log fell below what it had acknowledged; it gets nothing but the notice. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot' | 'lost'

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0
  /** Next index to send. */
  next: number
  state: ProgressState = 'probe'
  /** In probe state: an append is out and unanswered, so wait for its reply or the next heartbeat. */
  probeSent = false
  /** Appends sent in replicate state and not yet answered. */
  inflight = 0
  /** Heard from since the last check-quorum round. */
  recentActive = false
  /** Highest ReadIndex round this follower has answered. */
  readRoundAcked = 0
  /** The leader's tick when this follower last asked it for a read point (-2: never, or leases are kept). */
  lastAskTick = -2
  /** In snapshot state: the snapshot index being sent. */
  pendingSnapshot = 0

  constructor(lastIndex: number) {
    this.next = lastIndex + 1
  }

  becomeProbe(): void {
    this.state = 'probe'
    this.next = this.match + 1
    this.probeSent = false
    this.inflight = 0
    this.pendingSnapshot = 0
  }

  becomeReplicate(): void {
    this.state = 'replicate'
    this.next = this.match + 1
    this.inflight = 0
    this.probeSent = false
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot'
    this.pendingSnapshot = snapshotIndex
    this.inflight = 0
    this.probeSent = false
  }

  becomeLost(): void {
    this.state = 'lost'
    this.match = 0
    this.inflight = 0
    this.probeSent = false
    this.pendingSnapshot = 0
  }

  /** Can another append go out now? */
  canSend(maxInflight: number): boolean {
    switch (this.state) {
      case 'probe':
        return !this.probeSent
      case 'replicate':
        return this.inflight < maxInflight
      case 'snapshot':
      case 'lost':
        return false
    }
  }
}
