// The replicated-state-machine runtime: a StateMachine's reducer folded with RxJS `scan` over a
// Raft node's committed$. It resolves each waiting proposer with its command's result (or tells it
// the entry at its index was overwritten, so it retries), checkpoints the fold as a Raft snapshot
// when the raft state passes maxRaftStateBytes, and restores from snapshots (on start, and when the
// leader sends one). The state is fold(log) from the last snapshot: nothing else.

import { type Observable, Subject, filter, map, scan, share, takeUntil } from 'rxjs'
import { NotLeaderError, RaftError, RaftTimeoutError } from '../raft/errors.js'
import type { AppliedMessage, RaftNode } from '../raft/node.js'
import { type Clock, type TimerHandle, systemClock } from '../base/clock.js'
import type { Logger } from '../base/logger.js'
import { stderrLogger } from '../base/logger.js'
import { envelopeCodec } from './envelope.js'
import { type Folded, type Outcome, checkpointHead, encodeCheckpoint, foldMessage, initialFold } from './fold.js'
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from './sessions.js'
import type { ApplyContext, StateEncoding, StateMachine } from './types.js'

/** The entry proposed for a command was replaced by another leader's; the outcome is unknown, so retry. */
export class ProposalLostError extends RaftError {
  constructor(index: number) {
    super('ERR_PROPOSAL_LOST', `the entry proposed at index ${index} did not commit as proposed; retry`)
  }
}

/**
 * An incrementally encoded state goes to the log store in pieces of about this many bytes: each is
 * encoded in one go on the event loop, so a piece is kept to a few ms of work.
 */
const SNAPSHOT_PIECE_BYTES = 128 * 1024

/**
 * Identifies a request for exactly-once execution: a client numbers its requests, and a retry
 * carries the same numbers as the original.
 */
export interface ClientSession {
  /** Unique per client and never 0 (0 means no session). */
  clientId: number
  /** Increases with each new request of the client; a retry repeats it. */
  sequence: number
}

/** How a {@link ReplicatedStateMachine} is set up; times in ms. */
export interface ReplicatedStateMachineOptions<State, Command, Result> {
  /** The Raft node whose committed$ the machine folds; created, not yet started. */
  raft: RaftNode
  machine: StateMachine<State, Command, Result>
  /** Snapshot when the raft state (hard state + retained log) reaches this many bytes. Omit: never. */
  maxRaftStateBytes?: number
  sessionLimits?: SessionLimits
  clock?: Clock
  /** An execute() that has not completed in this time fails with ERR_RAFT_TIMEOUT. Default 2000 ms. */
  operationTimeoutMs?: number
  /**
   * Wall-clock time stamped on each proposal; sessions expire by this "log time". Default Date.now;
   * simulations pass their virtual clock.
   */
  wallClockMs?: () => number
  logger?: Logger
}

interface Waiter<Result> {
  readonly term: number
  readonly resolve: (result: Result | undefined) => void
  readonly reject: (error: Error) => void
  readonly timer: TimerHandle
}

/**
 * A StateMachine's reducer folded over a Raft node's committed entries: execute() proposes a
 * command and resolves with its result once it is applied (exactly once, with a session), query()
 * reads the state linearizably. The state is rebuilt from the last snapshot and the log on start;
 * when the Raft state passes maxRaftStateBytes it is checkpointed as a snapshot and the log behind it
 * is discarded.
 */
export class ReplicatedStateMachine<State, Command, Result> {
  readonly raft: RaftNode
  readonly machine: StateMachine<State, Command, Result>
  /** Every folded outcome, in index order. */
  readonly outcomes$: Observable<Outcome<Result>>
  private readonly options: ReplicatedStateMachineOptions<State, Command, Result>
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly operationTimeoutMs: number
  private readonly wallClockMs: () => number
  private readonly stopped = new Subject<void>()
  private readonly waiters = new Map<number, Waiter<Result>>()
  /** The timer for the machine's timed work (scheduleDue), and the due time it was set for. */
  private dueTimer: TimerHandle | null = null
  private dueTimerAtMs = Number.POSITIVE_INFINITY
  private dueInFlight = false
  private folded: Folded<State, Result>
  private snapshotInFlight = false
  /** The state encoding of the snapshot being written, which must see every command applied meanwhile. */
  private encoding: StateEncoding<Command> | null = null
  private failure: Error | null = null
  private readonly applyTimings = new Subject<ApplyTiming>()
  private readonly proposals = new Subject<ProposalOutcome>()

  /** How long each committed entry or snapshot took to apply (ms of the clock); measured only while subscribed. */
  readonly applyTimings$: Observable<ApplyTiming> = this.applyTimings.asObservable()
  /** How each execute() ended: applied, or why not. */
  readonly proposals$: Observable<ProposalOutcome> = this.proposals.asObservable()

  constructor(options: ReplicatedStateMachineOptions<State, Command, Result>) {
    this.options = options
    this.raft = options.raft
    this.machine = options.machine
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? stderrLogger
    this.operationTimeoutMs = options.operationTimeoutMs ?? 2000
    this.wallClockMs = options.wallClockMs ?? Date.now
    const limits = options.sessionLimits ?? DEFAULT_SESSION_LIMITS
    this.folded = initialFold(this.machine, limits)
    const preserveForSnapshot = (command: Command): void => this.encoding?.preserve(command)
    const folded$ = this.raft.committed$.pipe(
      scan((folded, message) => {
        if (!this.applyTimings.observed) return foldMessage(this.machine, folded, message, preserveForSnapshot)
        const startedMs = this.clock.now()
        const next = foldMessage(this.machine, folded, message, preserveForSnapshot)
        this.applyTimings.next({ kind: message.kind, index: message.index, ms: this.clock.now() - startedMs })
        return next
      }, this.folded),
      takeUntil(this.stopped),
      share(),
    )
    // This subscription drives the one shared fold; outcomes$ watches the same stream.
    folded$.subscribe({ next: (folded) => this.onFolded(folded), error: (error: unknown) => this.fail(error) })
    this.outcomes$ = folded$.pipe(
      map((folded) => folded.last),
      filter((outcome): outcome is Outcome<Result> => outcome !== null),
    )
  }

  /** Starts the Raft node (after the fold is subscribed, so it sees every message). */
  start(): void {
    this.raft.start()
  }

  /**
   * Stops folding and stops the Raft node. Commands still waiting reject with a RaftError of code
   * ERR_NODE_STOPPED; their entries may yet commit. The log store stays open.
   */
  async stop(): Promise<void> {
    this.stopped.next()
    if (this.dueTimer) this.clock.clearTimeout(this.dueTimer)
    this.rejectAll(() => new RaftError('ERR_NODE_STOPPED', 'the state machine was stopped'))
    await this.raft.stop()
  }

  /** The current state. Treat it as read-only: the fold owns it. */
  get state(): State {
    return this.folded.state
  }

  get appliedIndex(): number {
    return this.folded.index
  }

  get sessionCount(): number {
    return this.folded.sessions.size
  }

  /**
   * Proposes `command` and resolves with its result once it is applied. With a session, a retry
   * of the same (clientId, sequence) gets the recorded result instead of running again. Rejects
   * with NotLeaderError, ProposalLostError (retry) or a timeout.
   */
  execute(command: Command, session?: ClientSession, encodedCommand?: Uint8Array): Promise<Result | undefined> {
    // A service that received the command encoded passes the bytes on rather than encode it again.
    return this.executeEncoded(encodedCommand ?? this.machine.commandCodec.encode(command), session)
  }

  /**
   * execute() of a command already encoded with the machine's commandCodec, proposed as it is: for
   * a driver that passes on a command it received encoded without looking inside it.
   */
  executeEncoded(encodedCommand: Uint8Array, session?: ClientSession): Promise<Result | undefined> {
    const executed = this.propose(encodedCommand, session)
    if (this.proposals.observed) {
      executed.then(
        () => this.proposals.next('applied'),
        (error: unknown) => this.proposals.next(proposalFailure(error)),
      )
    }
    return executed
  }

  private propose(encodedCommand: Uint8Array, session: ClientSession | undefined): Promise<Result | undefined> {
    if (this.failure) return Promise.reject(this.failure)
    const data = envelopeCodec.encode({
      clientId: session?.clientId ?? 0,
      sequence: session?.sequence ?? 0,
      timeMs: Math.floor(this.wallClockMs()),
      command: encodedCommand,
    })
    const proposed = this.raft.propose(data)
    if (!proposed.isLeader) return Promise.reject(new NotLeaderError(this.raft.id, this.raft.status().leaderId))
    // A proposer still waiting at this index proposed in an earlier term of this node's leadership,
    // and its entry has since been replaced (this node could not propose here otherwise): it lost.
    this.settle(proposed.index, null)
    return new Promise((resolve, reject) => {
      const waiter: Waiter<Result> = {
        term: proposed.term,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          if (this.waiters.get(proposed.index) !== waiter) return
          this.waiters.delete(proposed.index)
          reject(new RaftTimeoutError(`command at index ${proposed.index}`, this.operationTimeoutMs))
        }, this.operationTimeoutMs),
      }
      this.waiters.set(proposed.index, waiter)
    })
  }

  /**
   * A linearizable read of the state (ReadIndex): sees every command that completed before the
   * call. `read` gets the read point and this leader's clock as its context.
   */
  async query<T>(read: (state: State, context: ApplyContext) => T): Promise<T> {
    if (this.failure) throw this.failure
    const index = await this.raft.readIndex()
    return read(this.folded.state, { index, term: this.raft.status().term, timeMs: Math.floor(this.wallClockMs()) })
  }

  private onFolded(folded: Folded<State, Result>): void {
    this.folded = folded
    const outcome = folded.last
    if (!outcome) return
    if (outcome.kind === 'snapshot') {
      for (const index of [...this.waiters.keys()]) if (index <= outcome.index) this.settle(index, null)
    } else {
      this.settle(outcome.index, outcome)
    }
    this.maybeSnapshot(folded)
    this.scheduleDue()
  }

  /**
   * On the leader of a machine with timed work (nextDueMs), sets a timer for the earliest due time;
   * when it fires, proposes the machine's dueCommand (one at a time), so that log time moves past a
   * deadline even when no client writes. Followers never propose; a new leader schedules as soon
   * as it applies its first entry.
   */
  private scheduleDue(): void {
    const nextDueMs = this.machine.nextDueMs
    if (!nextDueMs || this.dueInFlight || this.raft.isStopped || this.failure) return
    // Runs after every applied entry: the machine's answer (usually "nothing due") comes before the
    // costlier question of who leads.
    const dueMs = nextDueMs(this.folded.state)
    if (dueMs === null || dueMs >= this.dueTimerAtMs) return
    if (this.raft.status().role !== 'leader') return
    if (this.dueTimer) this.clock.clearTimeout(this.dueTimer)
    this.dueTimerAtMs = dueMs
    this.dueTimer = this.clock.setTimeout(() => this.proposeDue(), Math.max(0, dueMs - this.wallClockMs()))
  }

  private proposeDue(): void {
    this.dueTimer = null
    this.dueTimerAtMs = Number.POSITIVE_INFINITY
    if (this.raft.isStopped || this.failure || this.raft.status().role !== 'leader') return
    const command = this.machine.dueCommand?.(this.folded.state, Math.floor(this.wallClockMs())) ?? null
    if (command === null) {
      this.scheduleDue()
      return
    }
    this.dueInFlight = true
    this.execute(command)
      .catch(() => {}) // Lost or refused: the next leader proposes it again.
      .finally(() => {
        this.dueInFlight = false
        this.scheduleDue()
      })
  }

  /** Resolves the proposer waiting at `index`, if any: with the result if its entry committed there. */
  private settle(index: number, outcome: Outcome<Result> | null): void {
    const waiter = this.waiters.get(index)
    if (!waiter) return
    this.waiters.delete(index)
    this.clock.clearTimeout(waiter.timer)
    if (outcome && outcome.term === waiter.term && outcome.kind !== 'stale') waiter.resolve(outcome.result)
    else waiter.reject(new ProposalLostError(index))
  }

  private maybeSnapshot(folded: Folded<State, Result>): void {
    const limit = this.options.maxRaftStateBytes
    if (limit === undefined || limit <= 0 || this.snapshotInFlight) return
    if (this.raft.sizes().raftStateBytes < limit) return
    if (folded.index <= this.raft.status().snapshotIndex) return
    // The fold updates the state in place, so the checkpoint is taken now: whole, or (where the
    // machine can) as an encoding that keeps what later commands change.
    const encoding = this.machine.encodeIncrementally?.(folded.state) ?? null
    const nextTurn = (): Promise<void> => new Promise((resolve) => this.clock.defer(resolve))
    const checkpoint = encoding ? checkpointPieces(checkpointHead(this.machine, folded), encoding, nextTurn) : encodeCheckpoint(this.machine, folded)
    this.encoding = encoding
    this.snapshotInFlight = true
    this.raft
      .snapshot(folded.index, checkpoint)
      .catch((error: unknown) => {
        if (!this.raft.isStopped) this.logger.warn('snapshot failed', { node: this.raft.id, index: folded.index, reason: String(error) })
      })
      .finally(() => {
        this.encoding = null
        this.snapshotInFlight = false
        // Entries applied while this snapshot was being written may need one of their own.
        if (!this.raft.isStopped && !this.failure) this.maybeSnapshot(this.folded)
      })
  }

  private rejectAll(makeError: () => Error): void {
    for (const [index, waiter] of this.waiters) {
      this.clock.clearTimeout(waiter.timer)
      waiter.reject(makeError())
      this.waiters.delete(index)
    }
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error))
    this.logger.error('state machine stopped', { node: this.raft.id, reason: this.failure.message })
    this.rejectAll(() => this.failure as Error)
  }
}

/** How long one committed message took to fold into the state. */
export interface ApplyTiming {
  kind: AppliedMessage['kind']
  index: number
  ms: number
}

/** How an execute() ended: applied; refused on a follower; its entry lost to another leader's; timed out; the node stopped or failed. */
export type ProposalOutcome = 'applied' | 'not-leader' | 'lost' | 'timeout' | 'stopped' | 'failed'

function proposalFailure(error: unknown): ProposalOutcome {
  if (error instanceof NotLeaderError) return 'not-leader'
  if (error instanceof ProposalLostError) return 'lost'
  if (error instanceof RaftTimeoutError) return 'timeout'
  if (error instanceof RaftError && error.code === 'ERR_NODE_STOPPED') return 'stopped'
  return 'failed'
}

/**
 * A checkpoint in pieces: its head (taken already), then the state a piece at a time, each encoded
 * only when the log store asks for it, while later commands apply. The store takes most pieces
 * without waiting for a write, so each is encoded on a turn of the event loop of its own
 * (`nextTurn`): otherwise the pieces of a whole store chunk would be encoded in one go.
 */
async function* checkpointPieces<Command>(head: Uint8Array, encoding: StateEncoding<Command>, nextTurn: () => Promise<void>): AsyncIterable<Uint8Array> {
  yield head
  for (;;) {
    await nextTurn()
    const piece = encoding.next(SNAPSHOT_PIECE_BYTES)
    if (piece === null) return
    yield piece
  }
}
