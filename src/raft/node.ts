// The Raft node driver: the thin shell around RaftCore that does the I/O. It turns clock ticks and
// RPCs into core inputs, persists what the core hands it through the LogStore (replying to an RPC
// only once the state it depends on is durable), sends the core's RPCs on the Transport, and emits
// committed entries and snapshots on committed$ in strict index order.

import { BehaviorSubject, Observable, Subject, distinctUntilChanged } from 'rxjs'
import type { LogStore } from '../log/log-store.js'
import type { SnapshotMeta } from '../log/types.js'
import { RpcError } from '../rpc/errors.js'
import type { CallContext, Transport } from '../rpc/transport.js'
import { handler, invoke } from '../rpc/service.js'
import { type Clock, type TimerHandle, sleep, systemClock } from '../base/clock.js'
import { assert } from '../base/assert.js'
import { type Logger, stderrLogger } from '../base/logger.js'
import { type ApplyItem, type LostFollower, type Outgoing, type PersistWork, RaftCore } from './core.js'
import { LostStateError, MembershipChangeError, NodeStoppedError, NotLeaderError, RaftTimeoutError, SnapshotAheadError } from './errors.js'
import {
  type Verdict,
  checkAppendEntries,
  checkAppendReply,
  checkInstallSnapshot,
  checkLeaderOfTerm,
  checkReadIndexReply,
  checkReadIndexRequest,
  checkReplyTerm,
  checkRequestVote,
  checkTimeoutNow,
} from './message-checks.js'
import { appendEntries, askReadIndex, installSnapshot, requestVote, timeoutNow } from './rpc-methods.js'
import { ForwardedReads } from './forwarded-reads.js'
import { SnapshotReceiver, sendSnapshot } from './snapshot-transfer.js'
import { EntryType, type ProposeResult, type RaftStatus, type ReadIndexReply, type ReadIndexRequest, type Role } from './types.js'
import { configurationCodec } from './configuration-codec.js'
import { type FollowerProgress, type LeaderChange, RaftEvents, type RaftTiming, type RpcFailure } from './events.js'
import { type Configuration, EMPTY_CONFIGURATION, type MembershipChange, configurationOf, describeChange } from './membership.js'

/** The share of the election timeout a read lease lasts: 10% clock drift each way, on the leader and on a follower. */
const LEASE_FRACTION = 0.8

/** How {@link RaftNode.create} sets up a node; times in ms. */
export interface RaftNodeOptions {
  /** This node's id, unique in the cluster: the name peers call it by. */
  id: string
  /**
   * The founding voters (this node among them), used only while the store holds no configuration
   * yet: a new cluster records them (see LogStore.saveBootstrapConfiguration), and from then on the
   * members come from the store and the log, never from here. A node that joins an existing
   * cluster gives none: it learns the configuration from the leader.
   */
  members?: readonly string[]
  /** The founding voters' addresses, kept in the configuration so every member learns them. */
  memberAddresses?: Readonly<Record<string, string>>
  /** A learner added with promoteWhenCaughtUp is promoted once within this many entries of the leader's log. Default 256. */
  promoteLagEntries?: number
  transport: Transport
  store: LogStore
  clock?: Clock
  /** Source of randomness for election timeouts; pass a seeded one in simulation. */
  random?: () => number
  /** Granularity of the core's clock. Default 20 ms: fine enough for randomized timeouts, cheap when idle. */
  tickMs?: number
  /** Default 100 ms: at most ten heartbeats a second. */
  heartbeatIntervalMs?: number
  /** Base election timeout; each wait is randomized in [base, 2 × base). Default 300 ms. */
  electionTimeoutMs?: number
  /** Default true. */
  preVote?: boolean
  /** Default true. */
  checkQuorum?: boolean
  /**
   * Serve linearizable reads on the leader without a heartbeat round while it holds a lease: for
   * 80% of the base election timeout after a heartbeat round it began was acknowledged by a quorum.
   * Default false. Safe while no member's clock runs more than 10% faster or slower than another's
   * over an election timeout, and only if every member of the cluster is started with it (they then
   * refuse votes for an election timeout after hearing from a leader, and after starting). Needs
   * checkQuorum.
   */
  leaseReads?: boolean
  /** Bounds on one AppendEntries. Defaults 4096 entries and 1 MiB. */
  maxAppendEntries?: number
  maxAppendBytes?: number
  /** Appends pipelined to one follower. Default 64. */
  maxInflightAppends?: number
  /** A ReadIndex or leader transfer not done in this time fails. Default 4 × electionTimeoutMs. */
  operationTimeoutMs?: number
  /** Per-RPC timeout; default the transport's. */
  rpcTimeoutMs?: number
  logger?: Logger
}

/**
 * What committed$ emits: a committed command, a no-op (nothing to apply, but its index counts), or
 * a snapshot that replaces the state machine's state.
 */
export type AppliedMessage =
  | { kind: 'command'; index: number; term: number; data: Uint8Array }
  | { kind: 'noop'; index: number; term: number }
  /** The state machine's state is replaced by this snapshot (on start, or sent by the leader). */
  | { kind: 'snapshot'; index: number; term: number; data: Uint8Array; appMeta: Uint8Array }

interface PendingRead {
  readonly resolve: (index: number) => void
  readonly reject: (error: Error) => void
  readonly timer: TimerHandle
  /** Resolve once the state machine has applied the read point (a read here), or as soon as it is confirmed (a follower's ask). */
  readonly waitForApply: boolean
}

interface IndexWaiter {
  readonly index: number
  readonly resolve: (index: number) => void
}

const SERVICE = 'Raft'
const DEFAULT_TICK_MS = 20
const DEFAULT_PROMOTE_LAG_ENTRIES = 256
/** How often a change waits for its leader to commit an entry of its term before trying again. */
const TERM_COMMIT_RETRY_MS = 10

/** The configuration a node uses, as membership$ tells it. */
export interface MembershipState {
  readonly configuration: Configuration
  /** The index of the entry holding it (that of the snapshot or bootstrap if no entry does). */
  readonly index: number
  /** Whether that entry is committed: a server uses its latest configuration either way. */
  readonly committed: boolean
}

/**
 * One Raft server, doing its own I/O: it ticks on a Clock, serves and sends Raft's RPCs on a
 * Transport, and persists through a LogStore before it replies to any RPC that depends on what it
 * wrote, so what it acknowledged survives a crash. Create it with {@link RaftNode.create}, subscribe
 * to committed$, then start(); propose commands on the leader and apply them as they come out of
 * committed$. {@link ReplicatedStateMachine} (or {@link MachineNode}) does the applying for a
 * {@link StateMachine}.
 */
export class RaftNode {
  /** This node's id (RaftNodeOptions.id). */
  readonly id: string
  private readonly options: RaftNodeOptions
  private readonly core: RaftCore
  private readonly store: LogStore
  private readonly transport: Transport
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly tickMs: number
  private readonly operationTimeoutMs: number
  private readonly committed = new Subject<AppliedMessage>()
  private readonly receiver: SnapshotReceiver
  private readonly snapshotSends = new Set<string>()
  /** The snapshot index the core last asked to send to each peer. */
  private readonly snapshotWanted = new Map<string, number>()
  private tickTimer: TimerHandle | null = null
  private readonly events: RaftEvents
  private readonly heartbeatIntervalMs: number
  /** Per peer, when it last answered an RPC of this node (clock ms). */
  private readonly lastContact = new Map<string, number>()
  /** On a leader whose timings$ is watched: proposals not yet committed, with when they were made. */
  private proposedAt: Array<{ index: number; atMs: number }> = []
  private lastWrite: Promise<void> = Promise.resolve()
  private applyQueue: ApplyItem[] = []
  private applying = false
  private applied: number
  private readonly installs = new Map<number, Promise<unknown>>()
  private readonly reads = new Map<number, PendingRead>()
  private nextReadId = 1
  private readonly forwardedReads = new ForwardedReads()
  private indexWaiters: IndexWaiter[] = []
  private statusWaiters: Array<() => void> = []
  private started = false
  private stopped = false
  private pumping = false
  private pumpScheduled = false
  private emptyLogVoteReported = 0
  /** Per follower, the term in which its lost state was last reported. */
  private readonly lostReported = new Map<string, number>()

  /** Emits every committed entry and installed snapshot, each index once, in order. */
  readonly committed$: Observable<AppliedMessage> = this.committed.asObservable()

  /**
   * Resolves if the node stops on a failure (a durable write failed, or it lost its state); never
   * on a clean stop. A process hosting the node should exit then: a node that cannot persist must
   * not keep answering as if it could.
   */
  readonly failed: Promise<Error>
  private reportFailure: (error: Error) => void = () => {}

  private readonly membershipState: BehaviorSubject<MembershipState>
  /**
   * The configuration this node uses, each time it changes: when a Configuration entry is appended
   * (or truncated away, or a snapshot brings one) and when it commits.
   */
  readonly membership$: Observable<MembershipState>

  /** This node's status (role, term, leader, indexes) now and each time it changes. */
  get status$(): Observable<RaftStatus> {
    return this.events.status$
  }

  /** This node's role now and each time it changes. */
  get role$(): Observable<Role> {
    return this.events.role$
  }

  /** The term and the leader this node knows, now and each time either changes. */
  get leader$(): Observable<LeaderChange> {
    return this.events.leader$
  }

  /**
   * On a leader, every other member's replication progress: emitted when it changes, and at least
   * every heartbeat interval while this node leads (lag and last contact stay current). Computed
   * only while subscribed.
   */
  get progress$(): Observable<readonly FollowerProgress[]> {
    return this.events.progress$
  }

  /**
   * On a leader, every other member's replication progress as of now; empty on any other node.
   * For those who sample it (a scrape, a status request) rather than follow every change.
   */
  replicationProgress(): readonly FollowerProgress[] {
    const { role, lastIndex } = this.core.status()
    if (role !== 'leader') return []
    const now = this.clock.now()
    return this.core.replication().map((follower): FollowerProgress => ({
      id: follower.id,
      voter: follower.voter,
      matchIndex: follower.match,
      nextIndex: follower.next,
      lag: Math.max(0, lastIndex - follower.match),
      state: follower.state,
      inflight: follower.inflight,
      snapshotSending: this.snapshotSends.has(follower.id),
      sinceLastContactMs: this.lastContact.has(follower.id) ? now - (this.lastContact.get(follower.id) as number) : null,
    }))
  }

  /** Timings of log writes, commits (on a leader), snapshots and snapshot sends; measured only while subscribed. */
  get timings$(): Observable<RaftTiming> {
    return this.events.timings$
  }

  /** Raft RPCs to peers that got no reply, with the transport's error code. */
  get rpcFailures$(): Observable<RpcFailure> {
    return this.events.rpcFailures$
  }

  private constructor(options: RaftNodeOptions, core: RaftCore) {
    this.id = options.id
    this.options = options
    this.core = core
    this.store = options.store
    this.transport = options.transport
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? stderrLogger
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS
    const electionTimeoutMs = options.electionTimeoutMs ?? 300
    this.operationTimeoutMs = options.operationTimeoutMs ?? 4 * electionTimeoutMs
    // The snapshot (if any) is re-emitted at start, so nothing counts as applied before it.
    this.applied = 0
    this.receiver = new SnapshotReceiver(this.store)
    this.failed = new Promise((resolve) => (this.reportFailure = resolve))
    this.membershipState = new BehaviorSubject<MembershipState>(core.membership())
    this.events = new RaftEvents({ ...core.status(), appliedIndex: 0 })
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 100
    this.membership$ = this.membershipState.pipe(
      distinctUntilChanged((a, b) => a.index === b.index && a.committed === b.committed && a.configuration === b.configuration),
    )
  }

  /**
   * Recovers the node's state from its store. Subscribe to committed$, then call start(). Refuses
   * (LostStateError) a store marked as having lost state, or whose hard state says more is
   * committed than its log and snapshot hold.
   */
  static async create(options: RaftNodeOptions): Promise<RaftNode> {
    const store = options.store
    checkRecoveredState(options.id, store)
    const tickMs = options.tickMs ?? DEFAULT_TICK_MS
    const heartbeatTicks = Math.max(1, Math.round((options.heartbeatIntervalMs ?? 100) / tickMs))
    const electionTicks = Math.max(heartbeatTicks + 1, Math.round((options.electionTimeoutMs ?? 300) / tickMs))
    const snapshot = store.snapshotMeta
    const entries = store.lastIndex >= store.firstIndex ? await store.readEntries(store.firstIndex, store.lastIndex) : []
    const configuration = await recoverConfiguration(options, store)
    const core = new RaftCore(
      {
        id: options.id,
        configurationCodec,
        promoteLagEntries: options.promoteLagEntries ?? DEFAULT_PROMOTE_LAG_ENTRIES,
        electionTicks,
        heartbeatTicks,
        preVote: options.preVote ?? true,
        checkQuorum: options.checkQuorum ?? true,
        leaseTicks: options.leaseReads ? Math.floor(electionTicks * LEASE_FRACTION) : 0,
        maxAppendEntries: options.maxAppendEntries ?? 4096,
        maxAppendBytes: options.maxAppendBytes ?? 1024 * 1024,
        maxInflightAppends: options.maxInflightAppends ?? 64,
        random: options.random ?? Math.random,
      },
      {
        hardState: store.hardState,
        snapshotIndex: snapshot?.lastIncludedIndex ?? 0,
        snapshotTerm: snapshot?.lastIncludedTerm ?? 0,
        configuration,
        entries,
      },
    )
    return new RaftNode(options, core)
  }

  /** Starts serving RPCs and ticking; re-applies the snapshot and committed entries first. */
  start(): void {
    assert(!this.started, 'RaftNode.start() called twice')
    this.started = true
    // Peer-only: a client connection cannot call Raft. Each message is checked before the core sees it.
    this.transport.register(
      SERVICE,
      {
        RequestVote: handler(requestVote, (request, context) => {
          this.admit('RequestVote', context, checkRequestVote(request, context.from, this.core.status().term))
          return this.serve(() => {
            const reply = this.core.handleRequestVote(request)
            if (!reply.granted && this.core.status().lastIndex === 0 && request.lastLogIndex > 0) this.reportEmptyLogVote(request.term)
            return reply
          })
        }),
        AppendEntries: handler(appendEntries, (request, context) => {
          this.admit('AppendEntries', context, checkAppendEntries(request, context.from, this.core.status().term))
          this.admit('AppendEntries', context, checkLeaderOfTerm(request.term, request.leaderId, this.core.status()))
          if (request.lostState && request.term >= this.core.status().term) return this.stopOnLostState(request.leaderId, request.term)
          return this.serve(
            () => this.core.handleAppendEntries(request),
            (reply) => !reply.success || reply.matchIndex <= this.core.stableIndex,
          )
        }),
        InstallSnapshot: handler(installSnapshot, (request, context) => {
          this.admit('InstallSnapshot', context, checkInstallSnapshot(request, context.from, this.core.status().term))
          this.admit('InstallSnapshot', context, checkLeaderOfTerm(request.term, request.leaderId, this.core.status()))
          return this.serveInstallSnapshot(request)
        }),
        TimeoutNow: handler(timeoutNow, (request, context) => {
          this.admit('TimeoutNow', context, checkTimeoutNow(request, context.from, this.core.status().term))
          this.admit('TimeoutNow', context, checkLeaderOfTerm(request.term, request.leaderId, this.core.status()))
          return this.serve(() => this.core.handleTimeoutNow(request))
        }),
        ReadIndex: handler(askReadIndex, (request, context) => {
          this.admit('ReadIndex', context, checkReadIndexRequest(request, context.from, this.core.status().term))
          return this.serveReadIndexAsk(request)
        }),
      },
      { peersOnly: true },
    )
    const snapshot = this.store.snapshotMeta
    if (snapshot) this.applyQueue.push({ kind: 'snapshot', index: snapshot.lastIncludedIndex, term: snapshot.lastIncludedTerm })
    this.scheduleTick()
    this.pump()
  }

  // ---------------------------------------------------------------- public API

  /** Appends `command` if this node is leader; returns at once (commitment shows on committed$). */
  propose(command: Uint8Array): ProposeResult {
    if (this.stopped) return { index: -1, term: this.core.status().term, isLeader: false }
    const result = this.core.propose(command, EntryType.Command)
    if (result.isLeader && this.events.timingsObserved) this.proposedAt.push({ index: result.index, atMs: this.clock.now() })
    // Proposals that arrive together (in one turn of the event loop, or from sockets read in the
    // same I/O phase) go out in one AppendEntries per follower.
    if (result.isLeader) this.schedulePump()
    return result
  }

  /** This node's role, term, leader and log indexes now. */
  status(): RaftStatus {
    return { ...this.core.status(), appliedIndex: this.applied }
  }

  /** Bytes of hard state plus retained log, and of the snapshot, as stored. */
  sizes(): { raftStateBytes: number; snapshotBytes: number } {
    return this.store.sizes()
  }

  /**
   * The state machine's snapshot of everything through `index` (which it has applied): persisted,
   * after which the log up to `index` is discarded. Older than the current snapshot: ignored.
   * `data` may be a stream of pieces (a state encoded piece by piece while the node runs on).
   */
  async snapshot(index: number, data: Uint8Array | AsyncIterable<Uint8Array>, appMeta: Uint8Array = new Uint8Array(0)): Promise<void> {
    if (this.stopped) throw new NodeStoppedError(this.id)
    if (index <= (this.store.snapshotMeta?.lastIncludedIndex ?? 0)) return
    if (index > this.applied) throw new SnapshotAheadError(index, this.applied)
    const term = this.core.termAt(index)
    if (term === undefined) return // A newer snapshot from the leader covers it already.
    // The configuration in force at `index`, not the latest: a change after it is in the log that remains.
    const configuration = configurationCodec.encode(this.core.configurationAt(index))
    const startedMs = this.clock.now()
    try {
      await this.store.saveSnapshot({ lastIncludedIndex: index, lastIncludedTerm: term, appMeta, configuration }, data)
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_LOG_STALE_SNAPSHOT') return
      throw error
    }
    this.events.timing({ kind: 'snapshot', ms: this.clock.now() - startedMs, bytes: this.store.sizes().snapshotBytes, index })
    if (!this.stopped) this.core.compact(index)
    this.publish()
  }

  /**
   * A linearizable read point (ReadIndex): resolves with an index once a quorum has confirmed the
   * leader is still leader and this node's state machine has applied up to it. Reads at that point
   * see every write that completed before the call. A follower asks the leader for the point (one
   * ask for all the reads waiting) and rejects with NotLeaderError if it knows no leader or the
   * leader cannot confirm.
   */
  readIndex(): Promise<number> {
    if (this.stopped) return Promise.reject(new NodeStoppedError(this.id))
    const id = this.nextReadId++
    const promise = this.pendingRead(id, true)
    if (this.core.status().role === 'leader') {
      this.core.requestRead(id)
      // Reads that arrive together (one turn of the event loop) start or join a round in one pump.
      this.schedulePump()
    } else {
      this.forwardedReads.add(id)
      this.askLeaderForReads()
    }
    return promise
  }

  private pendingRead(id: number, waitForApply: boolean): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (this.reads.delete(id)) reject(new RaftTimeoutError('read index', this.operationTimeoutMs))
      }, this.operationTimeoutMs)
      this.reads.set(id, { resolve, reject, timer, waitForApply })
    })
  }

  /** Sends the follower's waiting reads to the leader as one ask, unless an ask is in flight. */
  private askLeaderForReads(): void {
    const ids = this.forwardedReads.takeAsk()
    if (ids === null) return
    const { role, term, leaderId } = this.core.status()
    const settle = (reply: ReadIndexReply | null): void => {
      if (reply) this.core.hearReadRound(reply.term, reply.readRound)
      if (reply?.confirmed) {
        this.core.learnCommitted(reply.readIndex, reply.readTerm)
        this.pump()
      }
      for (const id of this.forwardedReads.finishAsk()) this.settleRead(reply?.confirmed ? { id, index: reply.readIndex } : { id, error: 'not-leader' })
      this.askLeaderForReads()
    }
    if (role === 'leader') {
      // Became leader since the reads arrived: they join this node's own rounds.
      for (const id of this.forwardedReads.finishAsk()) this.core.requestRead(id)
      this.pump()
      this.askLeaderForReads()
      return
    }
    if (leaderId === null) {
      settle(null)
      return
    }
    const options = this.options.rpcTimeoutMs === undefined ? undefined : { timeoutMs: this.options.rpcTimeoutMs }
    this.rpc(
      leaderId,
      askReadIndex.fullName,
      invoke(this.transport, leaderId, askReadIndex, { term, followerId: this.id, readRoundHeard: this.core.readRoundHeard() }, options),
      (reply) => settle(reply && this.replyOrNull(leaderId, 'ReadIndex', reply, checkReadIndexReply(reply, term, this.core.status().term))),
    )
  }

  /** The leader's side of a follower's ask: a read point once the ask, or a round, confirms this node still leads. */
  private async serveReadIndexAsk(ask: ReadIndexRequest): Promise<ReadIndexReply> {
    if (this.stopped) throw new NodeStoppedError(this.id)
    const { role, term } = this.core.status()
    const unconfirmed = (): ReadIndexReply => ({ term: this.core.status().term, confirmed: false, readIndex: 0, readTerm: 0, readRound: 0 })
    if (role !== 'leader') return unconfirmed()
    const id = this.nextReadId++
    const confirmed = this.pendingRead(id, false)
    this.core.requestRead(id, { asker: ask.followerId, term: ask.term, readRoundHeard: ask.readRoundHeard })
    this.schedulePump()
    try {
      const readIndex = await confirmed
      return { term, confirmed: true, readIndex, readTerm: this.core.termAt(readIndex) ?? 0, readRound: this.core.readRound }
    } catch {
      return unconfirmed()
    }
  }

  // ---------------------------------------------------------------- membership

  /** The configuration this node uses now (its latest, committed or not). */
  members(): MembershipState {
    return this.core.membership()
  }

  /**
   * Adds a learner: it receives the log and snapshots but never votes nor counts toward a quorum.
   * With `promoteWhenCaughtUp` the leader promotes it once its log is within promoteLagEntries.
   */
  addLearner(id: string, address: string, options: { promoteWhenCaughtUp?: boolean } = {}): Promise<MembershipState> {
    return this.changeMembership({ kind: 'addLearner', id, address, promoteWhenCaughtUp: options.promoteWhenCaughtUp ?? false })
  }

  /** Makes learner `id` a voter; resolves once the change commits, rejects as changeMembership does. */
  promote(id: string): Promise<MembershipState> {
    return this.changeMembership({ kind: 'promote', id })
  }

  /** Removes a voter or learner; removing the leader makes it hand over and step down once the change commits. */
  removeServer(id: string): Promise<MembershipState> {
    return this.changeMembership({ kind: 'remove', id })
  }

  /**
   * Records that member `id` is now reached at `address` ("host:port"); resolves once the change
   * commits, rejects as changeMembership does.
   */
  changeAddress(id: string, address: string): Promise<MembershipState> {
    return this.changeMembership({ kind: 'changeAddress', id, address })
  }

  /**
   * Proposes one change on the leader and resolves once it is committed. Rejects with
   * NotLeaderError on a follower, MembershipChangeError if another change is in flight or this one
   * makes no sense, RaftTimeoutError if it does not commit within operationTimeoutMs.
   */
  async changeMembership(change: MembershipChange): Promise<MembershipState> {
    const deadline = this.clock.now() + this.operationTimeoutMs
    for (;;) {
      if (this.stopped) throw new NodeStoppedError(this.id)
      const outcome = this.core.proposeChange(change)
      this.pump()
      if ('index' in outcome) {
        await this.awaitCommitted(outcome.index, this.core.status().term, describeChange(change), deadline)
        return this.core.membership()
      }
      switch (outcome.reason) {
        case 'not-leader':
          throw new NotLeaderError(this.id, this.core.status().leaderId)
        case 'change-in-flight':
          throw new MembershipChangeError(
            `cannot ${describeChange(change)}: another change (entry ${outcome.pendingIndex}) is not committed yet; retry once it is`,
          )
        case 'invalid':
          throw new MembershipChangeError(`cannot ${describeChange(change)}: ${outcome.message}`)
        case 'term-not-committed':
          // The leader is committing an entry of its own term first (the single-server-change rule).
          if (this.clock.now() >= deadline) throw new RaftTimeoutError(describeChange(change), this.operationTimeoutMs)
          await sleep(this.clock, TERM_COMMIT_RETRY_MS)
      }
    }
  }

  /** Resolves once the entry at `index` of `term` is applied; rejects if another entry took its place. */
  private async awaitCommitted(index: number, term: number, what: string, deadline: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(
        () => {
          this.indexWaiters = this.indexWaiters.filter((waiter) => waiter !== entry)
          reject(new RaftTimeoutError(what, this.operationTimeoutMs))
        },
        Math.max(0, deadline - this.clock.now()),
      )
      const entry: IndexWaiter = {
        index,
        resolve: () => {
          this.clock.clearTimeout(timer)
          resolve()
        },
      }
      this.indexWaiters.push(entry)
      this.wakeIndexWaiters()
    })
    const committedTerm = this.core.termAt(index)
    if (committedTerm !== undefined && committedTerm !== term) {
      throw new MembershipChangeError(`${what} was overwritten by another leader before it committed; retry`)
    }
  }

  /** Hands leadership to `target`; resolves once this node sees `target` lead. */
  transferLeadership(target: string): Promise<void> {
    if (this.stopped) return Promise.reject(new NodeStoppedError(this.id))
    if (target === this.id && this.core.status().role === 'leader') return Promise.resolve()
    if (!this.core.transferLeadership(target)) return Promise.reject(new NotLeaderError(this.id, this.core.status().leaderId))
    this.pump()
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.statusWaiters = this.statusWaiters.filter((waiter) => waiter !== check)
        reject(new RaftTimeoutError(`leader transfer to ${target}`, this.operationTimeoutMs))
      }, this.operationTimeoutMs)
      const check = (): void => {
        const status = this.core.status()
        if (status.leaderId === target && status.role !== 'leader') {
          this.statusWaiters = this.statusWaiters.filter((waiter) => waiter !== check)
          this.clock.clearTimeout(timer)
          resolve()
        }
      }
      this.statusWaiters.push(check)
    })
  }

  /** Stops ticking and serving, waits for accepted writes to be durable. The store stays open. */
  async stop(): Promise<void> {
    if (this.stopped) return
    // The commit index is saved only now and then while running; a clean stop saves the latest,
    // so a restart (and `lograft log inspect`) starts from it.
    const hardState = this.core.hardState()
    this.halt()
    await this.lastWrite.catch(() => {})
    // A store that failed or was closed has nothing more to keep; the running commit index stays as saved.
    if (hardState.commitIndex > this.store.hardState.commitIndex) await this.store.saveHardState(hardState).catch(() => {})
  }

  /**
   * Simulates a crash: stops at once, and writes not yet handed to the database are lost (as an
   * unsynced write would be). For tests; the store must be reopened to restart.
   */
  kill(): void {
    if (this.stopped) return
    this.halt()
    this.store.abandon()
  }

  get isStopped(): boolean {
    return this.stopped
  }

  // ---------------------------------------------------------------- driving the core

  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    this.clock.defer(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  /** Carries out everything the core asks for, until it asks for nothing more. */
  private pump(): void {
    if (this.stopped || this.pumping) return
    this.pumping = true
    try {
      for (;;) {
        // Messages first: a leader's new entries reach the followers before its own write starts,
        // which runs alongside theirs (its entries count toward a commit only once persisted).
        // Nothing sent waits on this write: a vote counts only once durable, on either side.
        const messages = this.core.takeMessages()
        for (const message of messages) this.send(message)
        if (messages.length > 0) this.transport.flush?.()
        const work = this.core.takePersistence()
        if (work) this.persist(work)
        const items = this.core.takeApply()
        if (items.length > 0) {
          this.applyQueue.push(...items)
          void this.drainApply()
        }
        const outcomes = this.core.takeReadOutcomes()
        for (const outcome of outcomes) this.settleRead(outcome)
        if (!work && messages.length === 0 && items.length === 0 && outcomes.length === 0) break
      }
      this.core.checkInvariants()
      this.membershipState.next(this.core.membership())
      this.publish()
      for (const waiter of [...this.statusWaiters]) waiter()
    } finally {
      this.pumping = false
    }
  }

  /** Tells the watchers what changed in this turn: status, commit timings, followers' progress. */
  private publish(): void {
    const status = this.status()
    this.events.pushStatus(status)
    if (status.role !== 'leader') {
      if (this.proposedAt.length > 0) this.proposedAt = []
      this.lastContact.clear()
      return
    }
    // Nothing below is needed on the hot path unless someone watches timings or progress.
    if (this.proposedAt.length === 0 && !this.events.progressObserved) return
    const now = this.clock.now()
    const pending = this.proposedAt.findIndex((proposal) => proposal.index > status.commitIndex)
    const committed = this.proposedAt.splice(0, pending === -1 ? this.proposedAt.length : pending)
    for (const proposal of committed) this.events.timing({ kind: 'commit', ms: now - proposal.atMs })
    if (!this.events.progressObserved) return
    this.events.pushProgress(this.replicationProgress(), now, this.heartbeatIntervalMs)
  }

  private persist(work: PersistWork): void {
    const write = this.store.write({ ...(work.hardState ? { hardState: work.hardState } : {}), entries: work.entries })
    this.lastWrite = write
    const startedMs = this.events.timingsObserved ? this.clock.now() : null
    write.then(
      () => {
        if (startedMs !== null) this.events.timing({ kind: 'logWrite', ms: this.clock.now() - startedMs, entries: work.entries.length })
        if (this.stopped) return
        this.core.persisted(work)
        this.pump()
      },
      (error: unknown) => this.fail(error),
    )
  }

  /** The leader says this node lost its state: mark the directory so it cannot run again on it, and stop. */
  private async stopOnLostState(leaderId: string, term: number): Promise<never> {
    const error = new LostStateError(this.id, `leader ${leaderId} (term ${term}) found its log shorter than what it had acknowledged`)
    if (!this.stopped) {
      await this.store.markLostState(error.message).catch((cause: unknown) => {
        this.logger.error('cannot mark the data directory as having lost state', { node: this.id, reason: String(cause) })
      })
      this.fail(error)
    }
    throw new NodeStoppedError(this.id)
  }

  /** Logged once per term: an empty log does not vote for a candidate with a log (see RaftCore). */
  private reportEmptyLogVote(term: number): void {
    if (this.emptyLogVoteReported >= term) return
    this.emptyLogVoteReported = term
    this.logger.warn('not voting: this node has an empty log and the candidate does not', {
      node: this.id,
      term,
      remedy: 'none if this node is new (it votes once a leader has caught it up); if its data was lost, remove it and add it back',
    })
  }

  /** Refuses (logged, BAD_MESSAGE to the sender) a message that failed its checks. */
  private admit(message: string, context: CallContext, verdict: Verdict): void {
    if (verdict === null) return
    this.logger.warn('refused a Raft message', { node: this.id, from: context.from, message, reason: verdict })
    throw new RpcError('BAD_MESSAGE', `${message} from ${context.from} refused by ${this.id}: ${verdict}`)
  }

  /** A reply that fails its checks counts as no reply at all (logged). */
  private replyOrNull<Reply>(peer: string, message: string, reply: Reply, verdict: Verdict): Reply | null {
    if (verdict === null) return reply
    this.logger.warn('ignored a Raft reply', { node: this.id, from: peer, message, reason: verdict })
    return null
  }

  /**
   * Runs a core step for an incoming RPC and replies once everything it changed is durable. A step
   * that started no write, and whose reply `claimsOnlyDurable` (a heartbeat acknowledging entries
   * already on disk), replies at once rather than behind writes still in flight for earlier
   * messages: a leader's read round then waits for no follower's fsync.
   */
  private async serve<Reply>(step: () => Reply, claimsOnlyDurable?: (reply: Reply) => boolean): Promise<Reply> {
    if (this.stopped) throw new NodeStoppedError(this.id)
    const writeBefore = this.lastWrite
    const reply = step()
    this.pump()
    if (this.lastWrite === writeBefore && claimsOnlyDurable?.(reply)) return reply
    await this.lastWrite
    if (this.stopped) throw new NodeStoppedError(this.id)
    return reply
  }

  private send(message: Outgoing): void {
    const options = this.options.rpcTimeoutMs === undefined ? undefined : { timeoutMs: this.options.rpcTimeoutMs }
    switch (message.kind) {
      case 'vote':
        this.rpc(message.to, requestVote.fullName, invoke(this.transport, message.to, requestVote, message.request, options), (reply) => {
          const term = this.core.status().term
          const checked = reply && this.replyOrNull(message.to, 'RequestVote', reply, checkReplyTerm(reply.term, term))
          this.core.onVoteReply(message.to, message.request, checked)
        })
        return
      case 'append':
        if (message.lost) this.reportLostFollower(message.to, message.request.term, message.lost)
        this.rpc(message.to, appendEntries.fullName, invoke(this.transport, message.to, appendEntries, message.request, options), (reply) => {
          const term = this.core.status().term
          const checked = reply && this.replyOrNull(message.to, 'AppendEntries', reply, checkAppendReply(reply, message.request, term))
          this.core.onAppendReply(message.to, message.request, checked)
        })
        return
      case 'timeoutNow':
        this.rpc(message.to, timeoutNow.fullName, invoke(this.transport, message.to, timeoutNow, message.request, options), (reply) => {
          const checked = reply && this.replyOrNull(message.to, 'TimeoutNow', reply, checkReplyTerm(reply.term, this.core.status().term))
          this.core.onTimeoutNowReply(checked)
        })
        return
      case 'snapshot':
        this.startSnapshotSend(message.to, message.index)
        return
    }
  }

  /** Logged once per follower and term, at error: an operator must act. */
  private reportLostFollower(peer: string, term: number, lost: LostFollower): void {
    if (this.lostReported.get(peer) === term) return
    this.lostReported.set(peer, term)
    this.logger.error('a follower lost its state: it is no longer replicated to nor counted', {
      node: this.id,
      follower: peer,
      term,
      acknowledged_index: lost.acknowledgedIndex,
      log_ends_at: lost.foundLastIndex ?? undefined,
      remedy: `remove ${peer} from the cluster and add it back with an empty data directory`,
    })
  }

  /** Feeds an RPC's reply (or null if it failed) back into the core. */
  private rpc<Reply>(peer: string, method: string, call: Promise<Reply>, deliver: (reply: Reply | null) => void): void {
    // Replies are handled as they come but acted on once per turn (schedulePump), so a burst of
    // replies and proposals produces one round of messages, not one per reply.
    call.then(
      (reply) => {
        if (this.stopped) return
        this.lastContact.set(peer, this.clock.now())
        deliver(reply)
        this.schedulePump()
      },
      (error: unknown) => {
        this.events.rpcFailure({ to: peer, method, code: error instanceof RpcError ? error.code : 'OTHER' })
        if (this.stopped) return
        deliver(null)
        this.schedulePump()
      },
    )
  }

  private startSnapshotSend(to: string, index: number): void {
    // While one send is in flight the core may ask for a newer snapshot; remember the latest ask
    // and start it when the current send ends, instead of dropping it.
    this.snapshotWanted.set(to, index)
    if (this.snapshotSends.has(to)) return
    this.snapshotSends.add(to)
    const { term } = this.core.status()
    const startedMs = this.clock.now()
    sendSnapshot({
      store: this.store,
      transport: this.transport,
      to,
      index,
      term,
      leaderId: this.id,
      stillLeader: () => !this.stopped && this.core.status().role === 'leader' && this.core.status().term === term,
      ...(this.options.rpcTimeoutMs === undefined ? {} : { rpcTimeoutMs: this.options.rpcTimeoutMs }),
    })
      .then(
        (outcome) => {
          if (outcome.replyTerm === null) return outcome
          const verdict = checkReplyTerm(outcome.replyTerm, this.core.status().term)
          return this.replyOrNull(to, 'InstallSnapshot', outcome, verdict) ?? { replyTerm: null, accepted: false }
        },
        () => ({ replyTerm: null, accepted: false }),
      )
      .then((outcome) => {
        this.snapshotSends.delete(to)
        if (outcome.replyTerm !== null) this.lastContact.set(to, this.clock.now())
        this.events.timing({ kind: 'snapshotSent', ms: this.clock.now() - startedMs, to, index, accepted: outcome.accepted })
        if (this.stopped) return
        const wanted = this.snapshotWanted.get(to) as number
        if (wanted !== index) {
          this.startSnapshotSend(to, wanted)
          return
        }
        this.snapshotWanted.delete(to)
        this.core.onSnapshotSent(to, index, outcome.replyTerm, outcome.accepted)
        this.pump()
      })
  }

  private async serveInstallSnapshot(request: Parameters<SnapshotReceiver['receive']>[0]): Promise<{ term: number; accepted: boolean }> {
    if (this.stopped) throw new NodeStoppedError(this.id)
    const offer = this.core.offerSnapshot({ term: request.term, leaderId: request.leaderId, lastIncludedIndex: request.lastIncludedIndex })
    this.pump()
    if (!offer.install) {
      if (offer.term === request.term) await this.receiver.abort()
      await this.lastWrite
      return { term: offer.term, accepted: offer.term === request.term }
    }
    const received = await this.receiver.receive(request)
    if (this.stopped) throw new NodeStoppedError(this.id)
    if (received.kind === 'rejected') return { term: offer.term, accepted: false }
    if (received.kind === 'partial') return { term: offer.term, accepted: true }
    // The whole snapshot is on disk. Install it in the core and the store in one synchronous step,
    // so both decide alike which part of the log survives.
    if (!this.core.installSnapshot(request.lastIncludedIndex, request.lastIncludedTerm, configurationCodec.decode(received.configuration))) {
      await received.writer.abort()
      return { term: offer.term, accepted: true }
    }
    const durable = received.writer.commit({
      lastIncludedIndex: request.lastIncludedIndex,
      lastIncludedTerm: request.lastIncludedTerm,
      appMeta: received.appMeta,
      configuration: received.configuration,
    })
    this.installs.set(request.lastIncludedIndex, durable)
    this.pump()
    await durable
    if (this.stopped) throw new NodeStoppedError(this.id)
    return { term: offer.term, accepted: true }
  }

  // ---------------------------------------------------------------- applying

  private async drainApply(): Promise<void> {
    if (this.applying) return
    this.applying = true
    try {
      while (this.applyQueue.length > 0 && !this.stopped) {
        const item = this.applyQueue.shift() as ApplyItem
        if (item.kind === 'entry') {
          const { entry } = item
          assert(entry.index === this.applied + 1, () => `apply out of order: ${entry.index} after ${this.applied}`)
          this.applied = entry.index
          // A configuration entry changes no state machine: it is a no-op there (membership$ follows it).
          if (entry.type !== EntryType.Command) this.committed.next({ kind: 'noop', index: entry.index, term: entry.term })
          else this.committed.next({ kind: 'command', index: entry.index, term: entry.term, data: entry.data })
        } else {
          await this.installs.get(item.index)
          this.installs.delete(item.index)
          const meta = this.store.snapshotMeta as SnapshotMeta
          if (this.stopped || item.index <= this.applied || meta.lastIncludedIndex !== item.index) continue
          const data = await this.store.readSnapshot()
          if (this.stopped) break
          this.applied = item.index
          this.committed.next({ kind: 'snapshot', index: item.index, term: item.term, data, appMeta: meta.appMeta })
        }
        this.wakeIndexWaiters()
      }
      this.events.pushStatus(this.status())
    } catch (error) {
      this.fail(error)
    } finally {
      this.applying = false
    }
  }

  private settleRead(outcome: { id: number; index: number } | { id: number; error: 'not-leader' }): void {
    const read = this.reads.get(outcome.id)
    if (!read) return
    if ('error' in outcome || !read.waitForApply) {
      this.reads.delete(outcome.id)
      this.clock.clearTimeout(read.timer)
      if ('error' in outcome) read.reject(new NotLeaderError(this.id, this.core.status().leaderId))
      else read.resolve(outcome.index)
      return
    }
    // The read stays pending (its timer still runs out) until this node has applied the point.
    this.indexWaiters.push({
      index: outcome.index,
      resolve: (index) => {
        if (!this.reads.delete(outcome.id)) return // It timed out meanwhile.
        this.clock.clearTimeout(read.timer)
        read.resolve(index)
      },
    })
    this.wakeIndexWaiters()
  }

  private wakeIndexWaiters(): void {
    if (this.indexWaiters.length === 0) return
    const ready = this.indexWaiters.filter((waiter) => waiter.index <= this.applied)
    if (ready.length === 0) return
    this.indexWaiters = this.indexWaiters.filter((waiter) => waiter.index > this.applied)
    for (const waiter of ready) waiter.resolve(waiter.index)
  }

  // ---------------------------------------------------------------- lifecycle

  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      if (this.stopped) return
      this.core.tick()
      this.pump()
      this.scheduleTick()
    }, this.tickMs)
  }

  private halt(failure?: unknown): void {
    this.stopped = true
    if (this.tickTimer !== null) this.clock.clearTimeout(this.tickTimer)
    for (const read of this.reads.values()) {
      this.clock.clearTimeout(read.timer)
      read.reject(new NodeStoppedError(this.id))
    }
    this.reads.clear()
    this.indexWaiters = []
    if (failure === undefined) this.committed.complete()
    else this.committed.error(failure)
    this.membershipState.complete()
    this.events.complete()
  }

  private fail(error: unknown): void {
    if (this.stopped) return
    const failure = error instanceof Error ? error : new Error(String(error))
    this.logger.error(error instanceof LostStateError ? 'raft node stopped: it lost its state' : 'raft node stopped after a storage failure', {
      node: this.id,
      store: this.store.name,
      reason: failure.message,
    })
    this.halt(failure)
    this.store.abandon()
    this.reportFailure(failure)
  }
}

/** Refuses to start on state that cannot be what this node acknowledged. */
function checkRecoveredState(id: string, store: LogStore): void {
  const lost = store.identity?.lostState
  if (lost) throw new LostStateError(id, `its data directory was marked: ${lost}`)
  const logEnd = Math.max(store.lastIndex, store.snapshotMeta?.lastIncludedIndex ?? 0)
  const { commitIndex } = store.hardState
  if (commitIndex > logEnd) {
    throw new LostStateError(
      id,
      `its hard state says index ${commitIndex} is committed but its log ends at ${logEnd}; entries ${logEnd + 1}..${commitIndex} are missing`,
    )
  }
}

/**
 * The configuration at the store's snapshot, or the one the cluster was founded with: the store's
 * record of it, else `options.members` (recorded now, for a new cluster), else none (a joining node).
 */
async function recoverConfiguration(options: RaftNodeOptions, store: LogStore): Promise<Configuration> {
  const snapshot = store.snapshotMeta
  if (snapshot) return configurationCodec.decode(snapshot.configuration)
  if (store.bootstrapConfiguration) return configurationCodec.decode(store.bootstrapConfiguration)
  if (!options.members || options.members.length === 0) return EMPTY_CONFIGURATION
  const founding = configurationOf(options.members, options.memberAddresses)
  await store.saveBootstrapConfiguration(configurationCodec.encode(founding))
  return founding
}
