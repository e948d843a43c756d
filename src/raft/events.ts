// What a Raft node tells those who watch it: its status as it changes (role, term, leader, indexes),
// on a leader each follower's replication progress, and the timings of its slow steps (log writes,
// commits, snapshots). The driver feeds it; embedders, the metrics and `lograft status` read it.
// Streams are computed only while someone subscribes, so an unwatched node pays nothing for them.

import { BehaviorSubject, type Observable, Subject, distinctUntilChanged, map } from 'rxjs'
import type { ProgressState } from './progress.js'
import type { RaftStatus, Role } from './types.js'

/** A leader's view of one other member's replication, as {@link RaftNode.progress$} reports it. */
export interface FollowerProgress {
  id: string
  /** Whether it votes; learners replicate but never count. */
  voter: boolean
  /** Highest index known to be on its log. */
  matchIndex: number
  /** Next index the leader will send it. */
  nextIndex: number
  /** How many entries it lacks: the leader's last index minus its match index. */
  lag: number
  /** probe (finding where the logs agree), replicate (streaming), snapshot (being sent one), lost (it lost its state). */
  state: ProgressState
  /** Appends sent and not yet answered. */
  inflight: number
  /** Whether a snapshot is being sent to it now. */
  snapshotSending: boolean
  /** How long ago (ms, as of this report) it last answered this leader; null if it has not since this node became leader. */
  sinceLastContactMs: number | null
}

/** Who leads, as this node knows it: changes with each new term or newly learned leader. */
export interface LeaderChange {
  term: number
  /** Null while this node knows no leader for the term. */
  leaderId: string | null
}

/**
 * A timed step of the node, in ms of its clock:
 * - logWrite: one durable write to the log store (entries and/or hard state, synced);
 * - commit: on a leader, from a command's proposal to its commitment;
 * - snapshot: a snapshot handed to the store, from the call until it was durable;
 * - snapshotSent: a whole snapshot sent to a follower (accepted or not).
 */
export type RaftTiming =
  | { kind: 'logWrite'; ms: number; entries: number }
  | { kind: 'commit'; ms: number }
  | { kind: 'snapshot'; ms: number; bytes: number; index: number }
  | { kind: 'snapshotSent'; ms: number; to: string; index: number; accepted: boolean }

/** A Raft RPC to a peer that failed (no reply), by method and the transport's error code. */
export interface RpcFailure {
  to: string
  method: string
  code: string
}

/** The subjects behind a RaftNode's event streams; the driver pushes, subscribers read. */
export class RaftEvents {
  private readonly status: BehaviorSubject<RaftStatus>
  private readonly progress = new Subject<readonly FollowerProgress[]>()
  private readonly timings = new Subject<RaftTiming>()
  private readonly failures = new Subject<RpcFailure>()
  private lastProgress: readonly FollowerProgress[] = []
  private lastProgressAtMs = Number.NEGATIVE_INFINITY

  readonly status$: Observable<RaftStatus>
  readonly role$: Observable<Role>
  readonly leader$: Observable<LeaderChange>
  readonly progress$: Observable<readonly FollowerProgress[]>
  readonly timings$: Observable<RaftTiming>
  readonly rpcFailures$: Observable<RpcFailure>

  constructor(initial: RaftStatus) {
    this.status = new BehaviorSubject(initial)
    this.status$ = this.status.asObservable()
    this.role$ = this.status$.pipe(
      map((status) => status.role),
      distinctUntilChanged(),
    )
    this.leader$ = this.status$.pipe(
      map((status) => ({ term: status.term, leaderId: status.leaderId })),
      distinctUntilChanged((a, b) => a.term === b.term && a.leaderId === b.leaderId),
    )
    this.progress$ = this.progress.asObservable()
    this.timings$ = this.timings.asObservable()
    this.rpcFailures$ = this.failures.asObservable()
  }

  /** Emits `status` if any field differs from the last one emitted. */
  pushStatus(status: RaftStatus): void {
    const last = this.status.value
    if (
      last.term === status.term &&
      last.role === status.role &&
      last.leaderId === status.leaderId &&
      last.commitIndex === status.commitIndex &&
      last.appliedIndex === status.appliedIndex &&
      last.lastIndex === status.lastIndex &&
      last.snapshotIndex === status.snapshotIndex
    )
      return
    this.status.next(status)
  }

  /** Whether anyone watches progress$: the driver builds the list only then. */
  get progressObserved(): boolean {
    return this.progress.observed
  }

  /**
   * Emits the followers' progress when their replication changed, and at least every `everyMs`
   * while it did not (so lag and last contact stay current for those sampling it).
   */
  pushProgress(followers: readonly FollowerProgress[], nowMs: number, everyMs: number): void {
    if (nowMs - this.lastProgressAtMs < everyMs && sameReplication(this.lastProgress, followers)) return
    this.lastProgress = followers
    this.lastProgressAtMs = nowMs
    this.progress.next(followers)
  }

  timing(timing: RaftTiming): void {
    if (this.timings.observed) this.timings.next(timing)
  }

  /** Whether anyone watches timings$: the driver takes clock readings only then. */
  get timingsObserved(): boolean {
    return this.timings.observed
  }

  rpcFailure(failure: RpcFailure): void {
    if (this.failures.observed) this.failures.next(failure)
  }

  complete(): void {
    this.status.complete()
    this.progress.complete()
    this.timings.complete()
    this.failures.complete()
  }
}

function sameReplication(a: readonly FollowerProgress[], b: readonly FollowerProgress[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as FollowerProgress
    const y = b[i] as FollowerProgress
    if (x.id !== y.id || x.matchIndex !== y.matchIndex || x.nextIndex !== y.nextIndex || x.state !== y.state || x.lag !== y.lag) return false
    if (x.inflight !== y.inflight || x.snapshotSending !== y.snapshotSending || x.voter !== y.voter) return false
  }
  return true
}
