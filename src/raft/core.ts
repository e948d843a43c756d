// The Raft protocol core: a state machine over (state, message | tick) with no I/O, clocks or
// randomness of its own. The node driver feeds it RPCs, replies, ticks and durability reports, and
// carries out what it asks for: entries and hard state to persist, RPCs to send, entries and
// snapshots to apply. Election, replication, pre-vote, check-quorum, leader transfer and ReadIndex
// all live here, so the simulator and production run the same protocol code.

import type { HardState, LogEntry } from '../base/entries.js'
import { assert } from '../base/assert.js'
import { MAX_TERM } from './limits.js'
import { type Configuration, type MembershipChange, allMembers, applyChange, isVoter } from './membership.js'
import { Progress, type ProgressState } from './progress.js'
import { quorumIndex, quorumSize } from './quorum.js'
import { RaftLog, type Handoff } from './raft-log.js'
import { type ReadOutcome, ReadIndexTracker } from './read-index.js'
import {
  type AppendEntriesReply,
  type AppendEntriesRequest,
  EntryType,
  type ProposeResult,
  type RaftCoreOptions,
  type RaftStatus,
  type RequestVoteReply,
  type RequestVoteRequest,
  type Role,
  type TimeoutNowReply,
  type TimeoutNowRequest,
} from './types.js'

/** What a leader knows of a follower that lost its state, for the operator. */
export interface LostFollower {
  /** The highest index the follower had acknowledged holding. */
  readonly acknowledgedIndex: number
  /** Where its log ends now, if its reply said (0: empty). */
  readonly foundLastIndex: number | null
}

/** An RPC the core wants sent. */
export type Outgoing =
  | { kind: 'vote'; to: string; request: RequestVoteRequest }
  | { kind: 'append'; to: string; request: AppendEntriesRequest; lost?: LostFollower }
  | { kind: 'snapshot'; to: string; index: number; term: number }
  | { kind: 'timeoutNow'; to: string; request: TimeoutNowRequest }

/** Something the state machine must see next, in index order. */
export type ApplyItem = { kind: 'entry'; entry: LogEntry } | { kind: 'snapshot'; index: number; term: number }

/** A write the driver must make durable, then report with `persisted`. */
export interface PersistWork {
  hardState: HardState | null
  entries: LogEntry[]
  handoff: Handoff | null
}

export interface RecoveredRaftState {
  hardState: HardState
  snapshotIndex: number
  snapshotTerm: number
  /** The configuration at snapshotIndex: the snapshot's, or the bootstrap one (possibly empty, for a node that joins). */
  configuration: Configuration
  /** The entries after the snapshot, in order. */
  entries: LogEntry[]
}

export interface SnapshotOffer {
  term: number
  leaderId: string
  lastIncludedIndex: number
}

/** A follower's ask for a read point: who sent it, in which term, and the latest read round it had been told of. */
export interface ReadAsk {
  readonly asker: string
  readonly term: number
  readonly readRoundHeard: number
}

interface LeaderTransfer {
  readonly target: string
  elapsedTicks: number
  timeoutNowSent: boolean
}

/** How far the commit index may run ahead of the one saved in the hard state. */
const COMMIT_PERSIST_INTERVAL_ENTRIES = 256

/** Why a membership change was not proposed. */
export type ChangeRefusal =
  | { readonly reason: 'not-leader' }
  /** The leader has not committed an entry of its own term yet (one is on its way): retry shortly. */
  | { readonly reason: 'term-not-committed' }
  /** Another change is in the log and not yet committed. */
  | { readonly reason: 'change-in-flight'; readonly pendingIndex: number }
  | { readonly reason: 'invalid'; readonly message: string }

export class RaftCore {
  readonly id: string
  private readonly options: RaftCoreOptions
  private readonly log: RaftLog
  private term: number
  private votedFor: string | null
  private role: Role = 'follower'
  private leaderId: string | null = null
  private electionElapsed = 0
  private heartbeatElapsed = 0
  /** Ticks since the core was made: the clock a leader's lease is measured by. */
  private ticks = 0
  private electionTimeout = 0
  private votes = new Map<string, boolean>()
  private progress = new Map<string, Progress>()
  private hardStateDirty = false
  /** The commit index in the last hard state handed to storage. */
  private persistedCommit: number
  private outbox: Outgoing[] = []
  private replicationPending = false
  private termCommitted = false
  private noopProposedInTerm = false
  private transfer: LeaderTransfer | null = null
  private readonly reads = new ReadIndexTracker()
  /** On a follower: the latest read round it was told of by its leader in `term` (AppendEntries, answers to its asks). */
  private heardReadRound = { term: 0, round: 0 }
  /**
   * On a leader: the tick at which the read round in flight began without heartbeats to the
   * followers that were asking; null otherwise. Every round begins through sendReadRound or
   * broadcastHeartbeat, which set or clear it, so it always belongs to the current round.
   */
  private roundLeftToAsksTick: number | null = null
  private applyQueue: ApplyItem[] = []
  /** The follower's match index when each append was sent: a rejection at or below it is lost state, not a stale reply. */
  private readonly matchWhenSent = new WeakMap<AppendEntriesRequest, number>()
  /** Followers found to have lost their state in this term, and what was found. */
  private readonly lostFollowers = new Map<string, LostFollower>()
  /**
   * Whether this server's state has a history it can vote from with an empty log: its store held a
   * term when it started, or it has voted or held entries since. A store that began blank may be a
   * wiped one (see canJudge); one that voted in the cluster's first election and then missed the
   * first entries is not, and must vote, or a quorum could need every server that has them.
   */
  private hasHistory: boolean

  constructor(options: RaftCoreOptions, recovered: RecoveredRaftState) {
    assert(options.heartbeatTicks > 0 && options.electionTicks > options.heartbeatTicks, 'need 0 < heartbeatTicks < electionTicks')
    assert(
      options.leaseTicks === 0 || (options.checkQuorum && options.leaseTicks < options.electionTicks),
      'a read lease needs checkQuorum and must be shorter than an election timeout',
    )
    this.id = options.id
    this.options = options
    this.term = recovered.hardState.term
    this.votedFor = recovered.hardState.votedFor
    this.hasHistory = recovered.hardState.term > 0 || recovered.entries.length > 0 || recovered.snapshotIndex > 0
    this.log = new RaftLog(
      recovered.snapshotIndex,
      recovered.snapshotTerm,
      recovered.entries,
      recovered.hardState.commitIndex,
      recovered.configuration,
      options.configurationCodec.decode,
    )
    this.persistedCommit = recovered.hardState.commitIndex
    this.resetElectionTimeout()
  }

  // ---------------------------------------------------------------- membership

  /** The latest configuration in the log, committed or not: the one this server uses. */
  get configuration(): Configuration {
    return this.log.configurations.latest
  }

  /** The configuration in force at `index` (what a snapshot through `index` records). */
  configurationAt(index: number): Configuration {
    return this.log.configurations.at(index)
  }

  /** The latest configuration, the index of its entry, and whether that entry is committed. */
  membership(): { configuration: Configuration; index: number; committed: boolean } {
    const index = this.log.configurations.latestIndex
    return { configuration: this.configuration, index, committed: index <= this.log.committed }
  }

  /** On the leader, every other member's replication state, in configuration order; empty elsewhere. */
  replication(): Array<{ id: string; voter: boolean; match: number; next: number; state: ProgressState; inflight: number }> {
    if (this.role !== 'leader') return []
    const followers = []
    for (const [id, progress] of this.progress) {
      followers.push({
        id,
        voter: isVoter(this.configuration, id),
        match: progress.match,
        next: progress.next,
        state: progress.state,
        inflight: progress.inflight,
      })
    }
    return followers
  }

  /** Every other member, voters and learners: whom a leader replicates to. */
  private get peers(): string[] {
    return allMembers(this.configuration)
      .map((member) => member.id)
      .filter((id) => id !== this.id)
  }

  /** The other voters: whom a candidate asks, and whose acknowledgements count. */
  private get voterPeers(): string[] {
    return this.configuration.voters.map((member) => member.id).filter((id) => id !== this.id)
  }

  private get quorum(): number {
    return quorumSize(this.configuration.voters.length)
  }

  /**
   * Proposes one membership change (single-server; see membership.ts). Refused unless this node
   * leads, has committed an entry of its own term (it appends one if needed: retry then), and no
   * other change is uncommitted.
   */
  proposeChange(change: MembershipChange): { index: number } | ChangeRefusal {
    if (this.role !== 'leader' || this.transfer !== null) return { reason: 'not-leader' }
    if (!this.termCommitted) {
      this.ensureTermEntry()
      return { reason: 'term-not-committed' }
    }
    const pending = this.log.configurations.latestIndex
    if (pending > this.log.committed) return { reason: 'change-in-flight', pendingIndex: pending }
    const next = applyChange(this.configuration, change)
    if (typeof next === 'string') return { reason: 'invalid', message: next }
    const { index } = this.propose(this.options.configurationCodec.encode(next), EntryType.Configuration)
    this.syncProgress()
    return { index }
  }

  // ---------------------------------------------------------------- inputs: time and clients

  tick(): void {
    this.ticks++
    if (this.role === 'leader') this.tickLeader()
    else this.tickFollower()
  }

  propose(data: Uint8Array, type: number = EntryType.Command): ProposeResult {
    if (this.role !== 'leader' || this.transfer !== null) return { index: -1, term: this.term, isLeader: false }
    const index = this.log.lastIndex + 1
    this.log.append({ index, term: this.term, type, data })
    this.replicationPending = true
    return { index, term: this.term, isLeader: true }
  }

  /**
   * Starts a linearizable read; its outcome (an index to wait for, or an error) comes from
   * takeReadOutcomes. `ask` is the follower's ask it serves, if any (§6.4). The ask is itself an
   * acknowledgement of this leader: the asker sent it in this term after its reads arrived, and
   * after it was told of read round `ask.readRoundHeard`, so until then it had voted in no later
   * term, which is all a heartbeat reply in a round would show. So:
   * - when the asker and this leader make a quorum (up to three voters), the read needs no round;
   * - and the ask acknowledges the round it names, as a heartbeat reply would (acknowledgeByAsk).
   * A learner's, a lost follower's or an older term's ask proves nothing.
   */
  requestRead(id: number, ask?: ReadAsk): void {
    if (this.role !== 'leader') {
      this.reads.reject(id)
      return
    }
    const vouched = ask !== undefined && this.askerCounts(ask)
    if (vouched) this.acknowledgeByAsk(ask)
    if (!this.termCommitted) {
      this.reads.awaitTermCommit(id)
      this.ensureTermEntry()
      return
    }
    if (!isVoter(this.configuration, this.id)) {
      this.reads.reject(id) // A leader removing itself serves no reads; it steps down once the removal commits.
      return
    }
    if (this.voterPeers.length === 0 || this.inLease() || (vouched && quorumSize(this.configuration.voters.length) <= 2)) {
      this.reads.confirmNow(id, this.log.committed)
      return
    }
    if (this.reads.roundInFlight) {
      this.reads.awaitNextRound(id)
      return
    }
    this.reads.startRound([id], this.log.committed, this.ticks)
    this.sendReadRound()
  }

  /**
   * Whether the ask's sender, a voter in this term that has not lost its state, vouches for this
   * leader: it sent the ask in this term, so until then it had voted in no later term.
   */
  private askerCounts(ask: ReadAsk): boolean {
    return ask.term === this.term && this.voterPeers.includes(ask.asker) && !this.lostFollowers.has(ask.asker)
  }

  /**
   * A voter's ask, in this term, after it was told of read round `ask.readRoundHeard`: it acknowledges that
   * round, and marks the asker as one whose next ask will acknowledge the next (sendReadRound).
   * Neither when leases are kept: a lease also rests on followers restarting their election timers
   * when they hear from the leader, which an answer to an ask does not do.
   */
  private acknowledgeByAsk(ask: ReadAsk): void {
    if (this.options.leaseTicks > 0) return
    const progress = this.progress.get(ask.asker) as Progress
    progress.lastAskTick = this.ticks
    // A round not yet begun cannot have been told of: such a claim acknowledges nothing.
    if (ask.readRoundHeard > this.reads.round || ask.readRoundHeard <= progress.readRoundAcked) return
    progress.readRoundAcked = ask.readRoundHeard
    this.confirmReads()
  }

  /** The latest read round this node's leader told it of in the current term (0 if none): what its next ask acknowledges. */
  readRoundHeard(): number {
    return this.heardReadRound.term === this.term ? this.heardReadRound.round : 0
  }

  /** A follower is told of its leader's read round `round` by a message of term `term` (an AppendEntries or an answer to an ask). */
  hearReadRound(term: number, round: number): void {
    if (term !== this.term || this.role === 'leader') return
    if (this.heardReadRound.term !== term) this.heardReadRound = { term, round }
    else if (round > this.heardReadRound.round) this.heardReadRound.round = round
  }

  /** On a leader: its latest read round, which its answer to an ask tells the follower of. */
  get readRound(): number {
    return this.reads.round
  }

  /**
   * Whether this leader holds a read lease: a heartbeat round it began less than leaseTicks ago was
   * acknowledged by a quorum, so no other leader can have been elected since (each of those
   * followers refuses votes for an election timeout after hearing from it). Never while handing
   * leadership over: the target campaigns at once.
   */
  private inLease(): boolean {
    const from = this.reads.quorumRoundTick
    return this.options.leaseTicks > 0 && this.transfer === null && from !== null && this.ticks - from < this.options.leaseTicks
  }

  /** Hands leadership to `target` (which must be a member); false if this node is not leader. */
  transferLeadership(target: string): boolean {
    if (this.role !== 'leader' || !this.voterPeers.includes(target) || this.lostFollowers.has(target)) return false
    this.transfer = { target, elapsedTicks: 0, timeoutNowSent: false }
    this.maybeSendTimeoutNow()
    if (!this.transfer.timeoutNowSent) this.sendAppend(target)
    return true
  }

  // ---------------------------------------------------------------- inputs: incoming RPCs

  handleRequestVote(request: RequestVoteRequest): RequestVoteReply {
    if (request.term < this.term) return { term: this.term, granted: false }
    // With read leases, a server also refuses votes for its first election timeout after starting:
    // it may have heard from a leader, which may be counting on it, just before it restarted.
    const heardRecently = this.leaderId !== null && this.electionElapsed < this.options.electionTicks
    const justStarted = this.options.leaseTicks > 0 && this.ticks < this.options.electionTicks
    const inLease = this.options.checkQuorum && (heardRecently || justStarted) && !request.transfer
    if (inLease) return { term: this.term, granted: false }
    if (request.preVote) {
      const granted =
        request.term > this.term &&
        isVoter(this.configuration, request.candidateId) &&
        this.canJudge(request) &&
        this.log.isUpToDate(request.lastLogIndex, request.lastLogTerm)
      return { term: this.term, granted }
    }
    if (request.term > this.term) this.becomeFollower(request.term, null)
    // A candidate outside this server's configuration (one removed, say) gets no vote: it cannot disrupt.
    const canVote = (this.votedFor === null || this.votedFor === request.candidateId) && isVoter(this.configuration, request.candidateId)
    if (canVote && this.canJudge(request) && this.log.isUpToDate(request.lastLogIndex, request.lastLogTerm)) {
      if (this.votedFor !== request.candidateId) {
        this.votedFor = request.candidateId
        this.hardStateDirty = true
      }
      this.hasHistory = true
      this.electionElapsed = 0
      return { term: this.term, granted: true }
    }
    return { term: this.term, granted: false }
  }

  /**
   * A voter whose store began blank and has an empty log votes only for candidates with empty logs
   * (a cluster's first election). Once the cluster has a log, a blank store is either new or wiped,
   * and a wiped one may have acknowledged entries a candidate lacks or voted already in this term:
   * it votes again once a leader has given it a log. A voter with a history (hasHistory) and an
   * empty log judges as Raft says: any candidate's log is at least as up to date as nothing.
   */
  private canJudge(request: RequestVoteRequest): boolean {
    return this.log.lastIndex > 0 || this.hasHistory || request.lastLogIndex === 0
  }

  /**
   * The leader vouched that the entry at `index`, of `term`, is committed (a follower's read point).
   * If this log holds that entry, it and everything before it match the leader's (Log Matching), so
   * they are committed here too: the follower applies them without waiting for the next
   * AppendEntries to carry the leader's commit index.
   */
  learnCommitted(index: number, term: number): void {
    if (term > 0 && index > this.log.committed && this.log.term(index) === term) this.log.commitTo(index)
  }

  handleAppendEntries(request: AppendEntriesRequest): AppendEntriesReply {
    const reject = (hint: { conflictIndex: number; conflictTerm: number }): AppendEntriesReply => ({
      term: this.term,
      success: false,
      matchIndex: 0,
      ...hint,
    })
    if (request.term < this.term) return reject({ conflictIndex: 0, conflictTerm: 0 })
    this.acceptLeader(request.term, request.leaderId)
    this.hearReadRound(request.term, request.readRound)

    let prevIndex = request.prevLogIndex
    let entries: LogEntry[] = request.entries.map((entry, offset) => ({
      index: request.prevLogIndex + 1 + offset,
      term: entry.term,
      type: entry.type,
      data: entry.data,
    }))
    if (prevIndex < this.log.snapshotIndex) {
      // The start of this message is inside our snapshot, hence committed and matching.
      const covered = this.log.snapshotIndex - prevIndex
      if (entries.length <= covered) {
        return { term: this.term, success: true, matchIndex: prevIndex + entries.length, conflictIndex: 0, conflictTerm: 0 }
      }
      entries = entries.slice(covered)
      prevIndex = this.log.snapshotIndex
    } else if (this.log.term(prevIndex) !== request.prevLogTerm) {
      return reject(this.log.conflictHint(prevIndex))
    }
    const lastNewIndex = this.log.merge(prevIndex, entries)
    if (lastNewIndex > 0) this.hasHistory = true
    this.log.commitTo(Math.min(request.leaderCommit, lastNewIndex))
    return { term: this.term, success: true, matchIndex: lastNewIndex, conflictIndex: 0, conflictTerm: 0 }
  }

  /**
   * The first step of an incoming InstallSnapshot: accepts the sender as leader and says whether
   * the snapshot is worth installing (it is not if the log already commits past it).
   */
  offerSnapshot(offer: SnapshotOffer): { term: number; install: boolean } {
    if (offer.term < this.term) return { term: this.term, install: false }
    this.acceptLeader(offer.term, offer.leaderId)
    return { term: this.term, install: offer.lastIncludedIndex > this.log.committed }
  }

  /**
   * Installs a snapshot from the leader whose data the driver has received in full. The driver
   * must have handed every unstable entry to storage first, so storage and core agree on which
   * suffix survives. Returns false if the snapshot would move the state machine backwards.
   */
  installSnapshot(index: number, term: number, configuration: Configuration): boolean {
    if (index <= this.log.committed) return false
    this.log.restore(index, term, configuration)
    this.applyQueue.push({ kind: 'snapshot', index, term })
    return true
  }

  handleTimeoutNow(request: TimeoutNowRequest): TimeoutNowReply {
    if (request.term === this.term && this.role === 'follower' && request.leaderId === this.leaderId && isVoter(this.configuration, this.id)) {
      this.campaign('transfer')
    }
    return { term: this.term }
  }

  // ---------------------------------------------------------------- inputs: replies to our RPCs

  /** `reply` is null when the RPC failed. */
  onVoteReply(from: string, request: RequestVoteRequest, reply: RequestVoteReply | null): void {
    if (reply === null) return
    if (request.preVote) {
      if (this.role !== 'precandidate' || request.term !== this.term + 1) return
      if (!reply.granted && reply.term > this.term) {
        this.becomeFollower(reply.term, null)
        return
      }
      this.votes.set(from, reply.granted)
      if (this.countVotes(true) >= this.quorum) this.campaign('election')
      else if (this.countVotes(false) >= this.quorum) this.becomeFollower(this.term, null)
      return
    }
    if (reply.term > this.term) {
      this.becomeFollower(reply.term, null)
      return
    }
    if (this.role !== 'candidate' || request.term !== this.term) return
    this.votes.set(from, reply.granted)
    this.checkElection()
  }

  onAppendReply(from: string, request: AppendEntriesRequest, reply: AppendEntriesReply | null): void {
    const progress = this.progress.get(from)
    if (reply === null) {
      if (this.role !== 'leader' || request.term !== this.term || !progress) return
      progress.inflight = Math.max(0, progress.inflight - 1)
      if (progress.state === 'replicate') {
        progress.becomeProbe()
        progress.probeSent = true // Retry at the next heartbeat, not in a tight loop.
      }
      return
    }
    if (reply.term > this.term) {
      this.becomeFollower(reply.term, null)
      return
    }
    if (this.role !== 'leader' || request.term !== this.term || reply.term !== this.term || !progress) return
    if (progress.state === 'lost') return // It is told so at every heartbeat; nothing it says counts.
    progress.recentActive = true
    if (request.readRound > progress.readRoundAcked) {
      progress.readRoundAcked = request.readRound
      this.confirmReads()
    }
    if (reply.success) this.onAppendAccepted(from, progress, reply.matchIndex)
    else this.onAppendRejected(from, progress, request, reply)
  }

  /** The driver finished (or failed) streaming a snapshot to `to`; `replyTerm` is null on failure. */
  onSnapshotSent(to: string, index: number, replyTerm: number | null, accepted: boolean): void {
    if (replyTerm !== null && replyTerm > this.term) {
      this.becomeFollower(replyTerm, null)
      return
    }
    const progress = this.progress.get(to)
    if (this.role !== 'leader' || !progress || progress.state !== 'snapshot' || progress.pendingSnapshot !== index) return
    if (replyTerm !== null && accepted) {
      progress.recentActive = true
      progress.match = Math.max(progress.match, index)
      progress.becomeProbe()
      this.sendAppend(to)
    } else {
      progress.becomeProbe()
      progress.probeSent = true // Retry at the next heartbeat.
    }
  }

  onTimeoutNowReply(reply: TimeoutNowReply | null): void {
    if (reply !== null && reply.term > this.term) this.becomeFollower(reply.term, null)
  }

  // ---------------------------------------------------------------- inputs: storage and state machine

  /** `work` (from takePersistence) is durable. */
  persisted(work: PersistWork): void {
    if (work.handoff) this.log.markStable(work.handoff)
    const state = work.hardState
    if (state && this.role === 'candidate' && state.term === this.term && state.votedFor === this.id) {
      this.votes.set(this.id, true)
      this.checkElection()
    }
    if (this.role === 'leader') this.maybeCommit()
  }

  /** The state machine took a snapshot through `index` and it is durable: drop the covered log. */
  compact(index: number): void {
    this.log.compact(index)
  }

  /** Term, vote and commit index as they are now (not necessarily saved yet). */
  hardState(): HardState {
    return { term: this.term, votedFor: this.votedFor, commitIndex: this.log.committed }
  }

  /** The last index durable in this node's log. */
  get stableIndex(): number {
    return this.log.stableIndex
  }

  termAt(index: number): number | undefined {
    return this.log.term(index)
  }

  // ---------------------------------------------------------------- outputs

  /** Hard state and entries to make durable now, or null. */
  takePersistence(): PersistWork | null {
    const unstable = this.log.takeUnstable()
    // The commit index is saved now and then, not with every write: a stale one on restart only
    // means re-learning the rest from the leader, and leaving it out halves the records per write.
    const commitDue = this.log.committed - this.persistedCommit >= COMMIT_PERSIST_INTERVAL_ENTRIES
    if (!unstable && !this.hardStateDirty && !commitDue) return null
    const hardState = this.hardStateDirty || commitDue ? { term: this.term, votedFor: this.votedFor, commitIndex: this.log.committed } : null
    this.hardStateDirty = false
    if (hardState) this.persistedCommit = hardState.commitIndex
    return { hardState, entries: unstable?.entries ?? [], handoff: unstable?.handoff ?? null }
  }

  takeMessages(): Outgoing[] {
    if (this.replicationPending) {
      this.replicationPending = false
      if (this.role === 'leader') {
        for (const peer of this.peers) this.sendAppend(peer)
        this.maybeCommit() // A single-voter cluster commits on durability alone.
      }
    }
    const out = this.outbox
    this.outbox = []
    return out
  }

  takeApply(): ApplyItem[] {
    const items = this.applyQueue
    this.applyQueue = []
    for (const entry of this.log.takeApplicable()) items.push({ kind: 'entry', entry })
    return items
  }

  takeReadOutcomes(): ReadOutcome[] {
    return this.reads.takeOutcomes()
  }

  status(): RaftStatus {
    return {
      id: this.id,
      term: this.term,
      role: this.role,
      leaderId: this.leaderId,
      commitIndex: this.log.committed,
      appliedIndex: this.log.applied,
      lastIndex: this.log.lastIndex,
      snapshotIndex: this.log.snapshotIndex,
    }
  }

  /** Throws if any of the core's invariants does not hold. */
  checkInvariants(): void {
    const log = this.log
    assert(log.applied <= log.committed, () => `applied ${log.applied} > commit ${log.committed}`)
    assert(log.committed <= log.lastIndex, () => `commit ${log.committed} > last ${log.lastIndex}`)
    assert(log.snapshotIndex <= log.applied, () => `snapshot ${log.snapshotIndex} > applied ${log.applied}`)
    assert(this.role !== 'leader' || this.leaderId === this.id, 'a leader names itself leader')
    assert(this.role !== 'leader' || this.votedFor === this.id, 'a leader voted for itself in its term')
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leaderId: string | null): void {
    if (term > this.term) {
      this.term = term
      this.votedFor = null
      this.hardStateDirty = true
    }
    if (this.role === 'leader') this.reads.rejectAll()
    this.role = 'follower'
    this.leaderId = leaderId
    this.transfer = null
    this.progress.clear()
    this.lostFollowers.clear()
    this.votes.clear()
    this.electionElapsed = 0
    this.resetElectionTimeout()
  }

  private acceptLeader(term: number, leaderId: string): void {
    assert(!(this.role === 'leader' && term === this.term), () => `two leaders in term ${term}: ${this.id} and ${leaderId}`)
    if (term > this.term || this.role !== 'follower') this.becomeFollower(term, leaderId)
    this.leaderId = leaderId
    this.electionElapsed = 0
  }

  private campaign(kind: 'prevote' | 'election' | 'transfer'): void {
    this.votes.clear()
    this.leaderId = null
    this.electionElapsed = 0
    this.resetElectionTimeout()
    if (kind === 'prevote') {
      this.role = 'precandidate'
      this.votes.set(this.id, true)
      if (this.countVotes(true) >= this.quorum) {
        this.campaign('election')
        return
      }
    } else {
      // Never reached in practice (see MAX_TERM); it keeps a term from ever passing safe integers.
      if (this.term >= MAX_TERM) return
      this.role = 'candidate'
      this.term++
      this.votedFor = this.id
      this.hardStateDirty = true
      // Our own vote counts once it is durable: see persisted().
    }
    const request: RequestVoteRequest = {
      term: kind === 'prevote' ? this.term + 1 : this.term,
      candidateId: this.id,
      lastLogIndex: this.log.lastIndex,
      lastLogTerm: this.log.lastTerm,
      preVote: kind === 'prevote',
      transfer: kind === 'transfer',
    }
    for (const peer of this.voterPeers) this.outbox.push({ kind: 'vote', to: peer, request })
  }

  private checkElection(): void {
    const needed = this.quorum
    if (this.countVotes(true) >= needed) this.becomeLeader()
    else if (this.countVotes(false) >= needed) this.becomeFollower(this.term, null)
  }

  /** Votes cast by the latest configuration's voters (a vote from anyone else does not count). */
  private countVotes(granted: boolean): number {
    let count = 0
    for (const [voter, vote] of this.votes) if (vote === granted && isVoter(this.configuration, voter)) count++
    return count
  }

  private becomeLeader(): void {
    this.role = 'leader'
    this.leaderId = this.id
    this.votes.clear()
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.termCommitted = false
    this.noopProposedInTerm = false
    this.progress.clear()
    this.lostFollowers.clear()
    this.syncProgress()
    // A configuration left uncommitted by the previous leader (one that removed itself steps down
    // the moment its removal commits, before telling anyone) must not wait for a client's write:
    // until it commits, no further change is accepted and members() says uncommitted.
    if (this.log.configurations.latestIndex > this.log.committed) this.ensureTermEntry()
    for (const peer of this.peers) this.sendAppend(peer)
    this.maybeCommit()
  }

  private tickFollower(): void {
    this.electionElapsed++
    if (this.electionElapsed < this.electionTimeout) return
    // Learners, removed servers and a server that has not yet learned the configuration never campaign.
    if (isVoter(this.configuration, this.id)) this.campaign(this.options.preVote ? 'prevote' : 'election')
    else this.electionElapsed = 0
  }

  private tickLeader(): void {
    this.electionElapsed++
    this.heartbeatElapsed++
    if (this.transfer && ++this.transfer.elapsedTicks >= this.options.electionTicks) this.transfer = null
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0
      if (this.options.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, null)
          return
        }
        for (const progress of this.progress.values()) progress.recentActive = false
      }
    }
    if (this.heartbeatElapsed >= this.options.heartbeatTicks) {
      this.heartbeatElapsed = 0
      // With leases, every heartbeat is a round of its own, so its acknowledgements renew the lease.
      if (this.options.leaseTicks > 0 && !this.reads.roundInFlight) this.reads.startRound([], this.log.committed, this.ticks)
      this.broadcastHeartbeat()
    }
    // A round left to asks that no ask has confirmed a tick later: its askers went quiet.
    if (this.roundLeftToAsksTick !== null && this.ticks - this.roundLeftToAsksTick >= 2) {
      if (this.reads.roundInFlight) this.broadcastHeartbeat()
      this.roundLeftToAsksTick = null
    }
  }

  private quorumActive(): boolean {
    let active = isVoter(this.configuration, this.id) ? 1 : 0
    for (const peer of this.voterPeers) {
      const progress = this.progress.get(peer)
      if (progress?.recentActive && progress.state !== 'lost') active++
    }
    return active >= this.quorum
  }

  private resetElectionTimeout(): void {
    const base = this.options.electionTicks
    this.electionTimeout = base + Math.floor(this.options.random() * base)
  }

  // ---------------------------------------------------------------- replication

  private broadcastHeartbeat(): void {
    for (const peer of this.peers) this.heartbeatTo(peer, this.progress.get(peer) as Progress)
    this.roundLeftToAsksTick = null
  }

  /**
   * Sends the read round just begun. A follower that asked for a read point this tick or the last
   * is left out (acknowledgeByAsk marks none when leases are kept): it asks back to back, so the answer to its ask tells it of
   * the round and its next ask acknowledges it (acknowledgeByAsk), with no heartbeat either way.
   * Should it stop asking, the round goes to everyone at the tick after next (tickLeader).
   */
  private sendReadRound(): void {
    let leftOut = false
    for (const peer of this.peers) {
      const progress = this.progress.get(peer) as Progress
      if (progress.state !== 'lost' && progress.lastAskTick >= this.ticks - 1) leftOut = true
      else this.heartbeatTo(peer, progress)
    }
    this.roundLeftToAsksTick = leftOut ? this.ticks : null
  }

  private heartbeatTo(peer: string, progress: Progress): void {
    if (progress.state === 'lost') {
      this.sendLostNotice(peer)
      return
    }
    if (progress.state === 'probe') progress.probeSent = false
    if (progress.state !== 'snapshot' && progress.canSend(this.options.maxInflightAppends) && progress.next <= this.log.lastIndex) {
      this.sendAppend(peer)
    } else {
      this.sendHeartbeat(peer, progress)
    }
  }

  /** An empty AppendEntries at a point the follower is known to hold: resets its timer, carries commit and the read round. */
  private sendHeartbeat(peer: string, progress: Progress): void {
    const prevLogIndex = progress.match >= this.log.snapshotIndex ? progress.match : this.log.snapshotIndex
    this.pushAppend(peer, progress, this.appendRequest(prevLogIndex, [], Math.min(this.log.committed, prevLogIndex)))
  }

  private pushAppend(peer: string, progress: Progress, request: AppendEntriesRequest): void {
    this.matchWhenSent.set(request, progress.match)
    this.outbox.push({ kind: 'append', to: peer, request })
  }

  /** Tells a follower that lost its state so: it stops instead of rejoining with forgotten votes. */
  private sendLostNotice(peer: string): void {
    const request = { ...this.appendRequest(0, [], 0), lostState: true }
    this.outbox.push({ kind: 'append', to: peer, request, lost: this.lostFollowers.get(peer) as LostFollower })
  }

  private appendRequest(prevLogIndex: number, entries: readonly LogEntry[], leaderCommit: number): AppendEntriesRequest {
    return {
      term: this.term,
      leaderId: this.id,
      prevLogIndex,
      prevLogTerm: this.log.term(prevLogIndex) as number,
      entries: entries.map((entry) => ({ term: entry.term, type: entry.type, data: entry.data })),
      leaderCommit,
      readRound: this.reads.round,
      lostState: false,
    }
  }

  /** Sends as many appends as the follower's state allows (one when probing, a pipeline when replicating). */
  private sendAppend(peer: string): void {
    const progress = this.progress.get(peer) as Progress
    while (progress.canSend(this.options.maxInflightAppends)) {
      if (progress.next <= this.log.snapshotIndex) {
        progress.becomeSnapshot(this.log.snapshotIndex)
        this.outbox.push({ kind: 'snapshot', to: peer, index: this.log.snapshotIndex, term: this.log.snapshotTerm })
        return
      }
      const prevLogIndex = progress.next - 1
      const entries = progress.next <= this.log.lastIndex ? this.log.slice(progress.next, this.options.maxAppendEntries, this.options.maxAppendBytes) : []
      if (progress.state === 'replicate' && entries.length === 0) return
      this.pushAppend(peer, progress, this.appendRequest(prevLogIndex, entries, this.log.committed))
      if (progress.state === 'probe') {
        progress.probeSent = true
        return
      }
      progress.next = prevLogIndex + entries.length + 1
      progress.inflight++
    }
  }

  private onAppendAccepted(from: string, progress: Progress, matchIndex: number): void {
    progress.inflight = Math.max(0, progress.inflight - 1)
    if (matchIndex > progress.match) progress.match = matchIndex
    if (progress.state === 'probe') progress.becomeReplicate()
    else if (progress.state === 'snapshot' && progress.match >= progress.pendingSnapshot) progress.becomeReplicate()
    else if (progress.next <= progress.match) progress.next = progress.match + 1
    this.maybeCommit()
    this.maybeSendTimeoutNow()
    if (this.role === 'leader') this.maybePromote(from, progress)
    // More entries go out with everything else at the end of this turn (takeMessages), so the
    // replies and proposals that arrive together are answered by one AppendEntries per follower.
    if (this.role === 'leader') this.replicationPending = true
  }

  private onAppendRejected(from: string, progress: Progress, request: AppendEntriesRequest, reply: AppendEntriesReply): void {
    const rejectedIndex = request.prevLogIndex
    const acknowledgedIndex = this.matchWhenSent.get(request) ?? 0
    if (rejectedIndex > 0 && rejectedIndex <= acknowledgedIndex) {
      // In one term a follower never drops an entry it matched with this leader: it lost its state.
      this.lostFollowers.set(from, { acknowledgedIndex, foundLastIndex: reply.conflictTerm === 0 ? reply.conflictIndex - 1 : null })
      progress.becomeLost()
      this.sendLostNotice(from)
      return
    }
    if (rejectedIndex <= progress.match || progress.state === 'snapshot' || progress.state === 'lost') return // Stale: we know better already.
    if (progress.state === 'probe' && rejectedIndex !== progress.next - 1) return // Answers an older probe.
    let next = reply.conflictIndex
    if (reply.conflictTerm > 0) {
      const last = this.log.lastIndexOfTerm(reply.conflictTerm, rejectedIndex)
      if (last > 0) next = last + 1
    }
    progress.becomeProbe()
    progress.next = Math.max(progress.match + 1, Math.min(next, rejectedIndex))
    this.sendAppend(from)
  }

  /** Figure 2 / Figure 8: commit the highest index a quorum holds, if it is from this term. */
  private maybeCommit(): void {
    if (this.role !== 'leader') return
    const matches = this.configuration.voters.map((voter) => (voter.id === this.id ? this.log.stableIndex : (this.progress.get(voter.id)?.match ?? 0)))
    const candidate = quorumIndex(matches)
    if (candidate <= this.log.committed || this.log.term(candidate) !== this.term) return
    this.log.commitTo(candidate)
    if (this.membership().committed && !isVoter(this.configuration, this.id)) {
      this.stepDownAfterRemoval()
      return
    }
    if (!this.termCommitted) {
      this.termCommitted = true
      if (this.reads.startAwaitingRound(this.log.committed, this.ticks)) {
        if (this.voterPeers.length === 0) this.confirmReads()
        else this.sendReadRound()
      }
    }
  }

  /**
   * This leader's own removal has committed: it hands over to the most caught-up voter at once
   * (TimeoutNow, so no election timeout passes leaderless) and steps down; it never campaigns again.
   */
  private stepDownAfterRemoval(): void {
    let best: string | null = null
    let bestMatch = -1
    for (const peer of this.voterPeers) {
      const match = this.progress.get(peer)?.match ?? 0
      if (match > bestMatch && !this.lostFollowers.has(peer)) {
        best = peer
        bestMatch = match
      }
    }
    if (best !== null) this.outbox.push({ kind: 'timeoutNow', to: best, request: { term: this.term, leaderId: this.id } })
    this.becomeFollower(this.term, null)
  }

  /** A leader keeps a Progress for every other member of the latest configuration, no more. */
  private syncProgress(): void {
    if (this.role !== 'leader') return
    const members = new Set(this.peers)
    for (const peer of [...this.progress.keys()]) if (!members.has(peer)) this.progress.delete(peer)
    for (const peer of members) {
      if (this.progress.has(peer)) continue
      const progress = new Progress(this.log.lastIndex)
      progress.recentActive = true
      this.progress.set(peer, progress)
    }
  }

  /** Promotes a learner marked promoteWhenCaughtUp once its match is within promoteLagEntries of the log's end. */
  private maybePromote(peer: string, progress: Progress): void {
    const learner = this.configuration.learners.find((member) => member.id === peer)
    if (!learner?.promoteWhenCaughtUp || progress.state === 'lost') return
    if (progress.match + this.options.promoteLagEntries < this.log.lastIndex) return
    if (!this.termCommitted || this.log.configurations.latestIndex > this.log.committed) return
    this.proposeChange({ kind: 'promote', id: peer })
  }

  /** Before a new leader may answer reads it must commit an entry of its own term. */
  private ensureTermEntry(): void {
    if (this.noopProposedInTerm || this.log.lastTerm === this.term) return
    this.noopProposedInTerm = true
    this.propose(new Uint8Array(0), EntryType.Noop)
  }

  private confirmReads(): void {
    if (!isVoter(this.configuration, this.id)) return
    const acked = this.voterPeers.map((peer) => this.progress.get(peer)?.readRoundAcked ?? 0)
    this.reads.confirm(this.configuration.voters.length, acked)
    if (this.reads.startNextRound(this.log.committed, this.ticks)) this.sendReadRound()
  }

  private maybeSendTimeoutNow(): void {
    const transfer = this.transfer
    if (!transfer || transfer.timeoutNowSent) return
    const progress = this.progress.get(transfer.target)
    if (!progress || progress.match !== this.log.lastIndex) return
    transfer.timeoutNowSent = true
    this.outbox.push({ kind: 'timeoutNow', to: transfer.target, request: { term: this.term, leaderId: this.id } })
  }
}
