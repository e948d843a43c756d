// Whether a node should get traffic: its storage works, it knows a leader, and it has applied what
// was committed when it first found one (a restarted node is not ready while it replays or catches
// up). Built on the node's status$ and its failed promise; /readyz answers from it.

import type { Subscription } from 'rxjs'
import type { RaftNode } from '../raft/node.js'
import type { RaftStatus } from '../raft/types.js'

/** A readiness verdict with its reasons (empty when ready), as /readyz answers it in JSON. */
export interface Readiness {
  ready: boolean
  /** Why the node is not ready, one phrase each. */
  reasons: string[]
  role: string
  term: number
  leaderId: string | null
  commitIndex: number
  appliedIndex: number
  /** The commit index when this node first knew a leader; it is ready once it has applied this far. Null before. */
  catchUpIndex: number | null
  /** The storage failure that stopped the node, if one did. */
  storageError: string | null
}

/** Follows one node's readiness; check() answers at any moment. */
export class ReadinessTracker {
  private status: RaftStatus | null = null
  private catchUpIndex: number | null = null
  private storageError: string | null = null
  private stopped = false
  private readonly subscription: Subscription

  constructor(raft: RaftNode) {
    this.subscription = raft.status$.subscribe({
      next: (status) => {
        this.status = status
        if (this.catchUpIndex === null && status.leaderId !== null) this.catchUpIndex = status.commitIndex
      },
      complete: () => (this.stopped = true),
    })
    void raft.failed.then((error) => (this.storageError = error.message))
  }

  /** The verdict now. */
  check(): Readiness {
    const status = this.status as RaftStatus
    const reasons: string[] = []
    if (this.storageError !== null) reasons.push(`the node stopped: ${this.storageError}`)
    else if (this.stopped) reasons.push('the node is stopped')
    if (status.leaderId === null) reasons.push(`no leader known in term ${status.term}`)
    if (this.catchUpIndex === null) reasons.push('has not yet known a leader since it started')
    else if (status.appliedIndex < this.catchUpIndex) reasons.push(`catching up: applied ${status.appliedIndex} of ${this.catchUpIndex}`)
    return {
      ready: reasons.length === 0,
      reasons,
      role: status.role,
      term: status.term,
      leaderId: status.leaderId,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      catchUpIndex: this.catchUpIndex,
      storageError: this.storageError,
    }
  }

  /** Whether the node is alive: running, its storage not failed. */
  get alive(): boolean {
    return this.storageError === null && !this.stopped
  }

  /** Stops following the node. */
  stop(): void {
    this.subscription.unsubscribe()
  }
}
