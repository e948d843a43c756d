// A sharded-KV replica group server: the driver around the group's state machine. It serves client
// operations (writes through the log, reads by ReadIndex, ErrWrongGroup for shards it does not
// serve), serves its frozen shards to their new owners, and — on the leader — polls the controller
// for the next configuration, pulls incoming shards chunk by chunk through its own log, and tells
// previous owners when they may delete what it now holds.

import { NotLeaderError, RaftTimeoutError } from '../raft/errors.js'
import type { LogStore } from '../log/log-store.js'
import { handler, invoke } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import { type Clock, type TimerHandle } from '../base/clock.js'
import type { KvResult } from '../kv/kv.js'
import { applyKv, isReadCommand, routingKey } from '../kv/kv-ops.js'
import { EMPTY_RESULT, type KvReply, type KvRequest, shardKvCommandMethod } from './client-rpc.js'
import type { ReplicatedStateMachine } from '../statemachine/runtime.js'
import type { SessionLimits } from '../statemachine/sessions.js'
import type { Logger } from '../base/logger.js'
import type { KeyToShard, ShardConfig } from './config.js'
import { chunkPayloadFault, encodeChunkCommand } from './group-codec.js'
import { type GroupCommand, type GroupResult, type GroupState, isSettled, serves, shardRefusal } from './group-machine.js'
import type { ShardState } from './shard-state.js'
import { ShardOperationTracker, type TransferPlan, planTransfer } from './migration-source.js'
import { MigrationPacer } from './migration-pacer.js'
import { type DeleteReply, type FetchReply, type FetchRequest, deleteShardMethod, fetchShardMethod } from './shard-rpc.js'

/** Reads never append, so the flavour of append does not matter to them. */
const READ_OPTIONS = { appendReturnsOldValue: false }
/** Bytes of keys and values per migration chunk, unless GroupServerOptions.maxChunkBytes says otherwise. */
export const DEFAULT_MAX_CHUNK_BYTES = 256 * 1024

export type GroupReplica = ReplicatedStateMachine<GroupState, GroupCommand, GroupResult>

/** What a group (or a clerk) needs of the controller to follow its configurations. */
export interface ConfigSource {
  query(num: number): Promise<ShardConfig>
}

/** What a group's leader needs of the controller. */
export interface GroupController extends ConfigSource {
  /** Names a group's servers (a join of a group already in the configuration updates its list). */
  join(servers: Record<number, string[]>): Promise<ShardConfig>
}

export interface GroupServerOptions {
  replica: GroupReplica
  store: LogStore
  transport: Transport
  controller: GroupController
  clock: Clock
  wallClockMs: () => number
  keyToShard: KeyToShard
  shardCount: number
  sessionLimits: SessionLimits
  logger: Logger
  /** How often the leader looks for a new configuration, shards to pull and deletions to confirm. Default 100 ms. */
  pollIntervalMs?: number
  /** Bytes of keys and values per migration chunk. Default DEFAULT_MAX_CHUNK_BYTES (256 KiB). */
  maxChunkBytes?: number
  /**
   * Chunks of an incoming shard proposed to the log and not yet applied, while the next is
   * fetched. More moves a shard faster; fewer keeps other shards' writes from queueing behind its
   * chunks in the log. Default 1 (bench:shard on 2 cores: 4 moved it 13% faster but left the other
   * shards 17% of their throughput instead of 28%, and their p99 5.7x instead of 4.3x).
   */
  maxChunksInFlight?: number
  /**
   * Bytes per second of incoming shard data this group's leader pulls, all shards together: a
   * slower move that leaves the other shards more of the machine. Default: no limit.
   */
  maxMigrationBytesPerSecond?: number
  /** Per-RPC timeout towards other groups and the controller. Default 1000 ms. */
  rpcTimeoutMs?: number
  /** Hears about each shard this server starts sending (for progress displays and tests). */
  onTransferPlanned?: (report: TransferReport) => void
}

/** A shard a group server starts sending to the group that takes it over. */
export interface TransferReport {
  /** The configuration that moved the shard. */
  configNum: number
  shard: number
  /** 'snapshot+log': the shard's snapshot plus the log segment since; 'live': the frozen shard as it is. */
  source: TransferPlan['source']
  /** Chunks the shard is sent in (data, sessions, operations, and a closing digest). */
  chunks: number
  /** Operations of the log segment replayed on top of the snapshot's copy (0 for 'live'). */
  segmentOperations: number
}

interface OutgoingTransfer {
  readonly id: string
  readonly plan: Promise<TransferPlan>
}

export class GroupServer {
  private readonly replica: GroupReplica
  private readonly options: GroupServerOptions
  private readonly tracker = new ShardOperationTracker()
  private readonly outgoing = new Map<string, OutgoingTransfer>()
  private readonly pulling = new Set<number>()
  private readonly confirming = new Set<number>()
  private readonly pacer: MigrationPacer | null
  private pollTimer: TimerHandle | null = null
  private polling = false
  private stopped = false
  private transferCounter = 0

  constructor(options: GroupServerOptions) {
    this.options = options
    this.replica = options.replica
    this.pacer = options.maxMigrationBytesPerSecond === undefined ? null : new MigrationPacer(options.maxMigrationBytesPerSecond, options.clock)
    // Subscribed before the replica starts, so the tracker sees the log replayed from the snapshot.
    this.replica.outcomes$.subscribe((outcome) => {
      this.tracker.observe(outcome, this.replica.state)
      this.tracker.prune(options.store.snapshotMeta?.lastIncludedIndex ?? 0)
    })
    options.transport.register(shardKvCommandMethod.service, {
      [shardKvCommandMethod.name]: handler(shardKvCommandMethod, (request) => this.serveClient(request)),
    })
    options.transport.register('Shard', {
      Fetch: handler(fetchShardMethod, (request) => this.serveFetch(request)),
      Delete: handler(deleteShardMethod, (request) => this.serveDelete(request.configNum, request.shard)),
    })
  }

  start(): void {
    this.schedulePoll()
  }

  stop(): void {
    this.stopped = true
    if (this.pollTimer !== null) this.options.clock.clearTimeout(this.pollTimer)
    this.pacer?.stop()
  }

  // ---------------------------------------------------------------- serving

  private async serveClient(request: KvRequest): Promise<KvReply> {
    const { command } = request
    const shard = this.options.keyToShard(routingKey(command), this.options.shardCount)
    try {
      if (isReadCommand(command)) {
        const found = await this.replica.query((state, context): KvResult | null => {
          const refusal = shardRefusal(command, shard, this.options)
          if (refusal) return refusal
          const held = state.shards.get(shard)
          if (!serves(state, shard) || !held) return null
          return applyKv(held.data, command, context, READ_OPTIONS)
        })
        return found ? reply('OK', found) : reply('ErrWrongGroup')
      }
      const result = await this.replica.execute({
        kind: 'op',
        clientId: request.clientId,
        sequence: request.sequence,
        timeMs: Math.floor(this.options.wallClockMs()),
        command,
      })
      if (!result || result.err === 'ErrWrongGroup') return reply('ErrWrongGroup')
      return reply('OK', result.kv ?? EMPTY_RESULT)
    } catch (error) {
      if (error instanceof RaftTimeoutError) return reply('ErrTimeout')
      return { ...reply('ErrWrongLeader'), leaderHint: error instanceof NotLeaderError ? (error.leaderId ?? '') : '' }
    }
  }

  /** Serves a chunk of a frozen shard to its new owner (leader only, so one source per transfer). */
  private async serveFetch(request: FetchRequest): Promise<FetchReply> {
    const refused = (err: FetchReply['err']): FetchReply => ({ err, transferId: '', chunkCount: 0, payload: new Uint8Array(0) })
    if (this.replica.raft.status().role !== 'leader') return refused('ErrWrongLeader')
    const state = this.replica.state
    if (state.config.num < request.configNum) return refused('ErrNotReady')
    const held = state.shards.get(request.shard)
    if (state.config.num > request.configNum || !held || held.status !== 'offering') return refused('ErrStale')
    const transfer = this.outgoingTransfer(request.configNum, request.shard, held)
    const plan = await transfer.plan
    const index = request.transferId === transfer.id ? request.index : 0
    const payload = await plan.chunk(index)
    if (!payload) return refused('ErrStale')
    return { err: 'OK', transferId: transfer.id, chunkCount: plan.chunkCount, payload }
  }

  /** The transfer of a frozen `shard` to its new owner at `configNum`, planned when first asked for. */
  private outgoingTransfer(configNum: number, shard: number, held: ShardState): OutgoingTransfer {
    const key = `${configNum}/${shard}`
    const known = this.outgoing.get(key)
    if (known) return known
    // Unique across restarts, not only within this process: a puller resumes a transfer by its id
    // and the next chunk index, and the counter starts again at 0 in a restarted server. Without
    // the term, a whole group that restarted mid-move answered a resumed "server:1" with chunks of
    // a new plan under the same id, and the new owner sealed a shard that did not match the
    // source's digest (SEED=6000 of shard-kv's Concurrent3). A leader's term after a restart is
    // higher than any it led in before, and one term has one leader.
    const transfer = {
      id: `${this.options.transport.self}:${this.replica.raft.status().term}:${++this.transferCounter}`,
      plan: planTransfer({
        store: this.options.store,
        frozen: held,
        shardId: shard,
        tracker: this.tracker,
        limits: this.options.sessionLimits,
        maxChunkBytes: this.options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES,
        nextTurn: () => new Promise((resolve) => this.options.clock.defer(resolve)),
      }),
    }
    this.outgoing.set(key, transfer)
    transfer.plan.then(
      (plan) => {
        const report = { configNum, shard, source: plan.source, chunks: plan.chunkCount, segmentOperations: plan.segmentOperations }
        this.options.logger.info('sending shard', { ...report })
        this.options.onTransferPlanned?.(report)
      },
      () => this.outgoing.delete(key),
    )
    return transfer
  }

  private async serveDelete(configNum: number, shard: number): Promise<DeleteReply> {
    try {
      const result = await this.replica.execute({ kind: 'delete', configNum, shard })
      if (result?.err === 'OK') this.outgoing.delete(`${configNum}/${shard}`)
      return { err: result?.err === 'OK' ? 'OK' : 'ErrNotReady' }
    } catch {
      return { err: 'ErrWrongLeader' }
    }
  }

  // ---------------------------------------------------------------- leader's background work

  private schedulePoll(): void {
    if (this.stopped) return
    this.pollTimer = this.options.clock.setTimeout(() => {
      void this.poll().finally(() => this.schedulePoll())
    }, this.options.pollIntervalMs ?? 100)
  }

  private async poll(): Promise<void> {
    this.forgetFinishedTransfers()
    if (this.polling || this.replica.raft.status().role !== 'leader') return
    this.polling = true
    try {
      this.startShardWork()
      if (isSettled(this.replica.state)) {
        await this.nextConfig(this.replica.state.config.num)
        // Shards the new configuration brings start moving now, not a poll interval later.
        this.startShardWork()
      }
      if (isSettled(this.replica.state)) await this.reportServers(this.replica.state.config)
    } catch (error) {
      this.options.logger.warn('group poll failed', { reason: String(error) })
    } finally {
      this.polling = false
    }
  }

  /**
   * Starts pulling the shards that are to arrive, and confirming the deletions of those that
   * arrived; plans the transfers of shards that leave as soon as they freeze, so that the new
   * owner's first fetch finds the plan made.
   */
  private startShardWork(): void {
    const state = this.replica.state
    for (const [shard, held] of state.shards) {
      if (held.status === 'offering') this.outgoingTransfer(state.config.num, shard, held)
      if (held.status === 'pulling' && !this.pulling.has(shard)) void this.pull(shard, state.config.num)
      if (held.status === 'serving' && held.gcPending && !this.confirming.has(shard)) void this.confirmDeletion(shard, state.config.num)
    }
  }

  /**
   * Drops the plans of shards this group no longer offers. The leader that serves Delete drops its
   * own plan; a server that planned a transfer and then lost leadership would otherwise keep a copy
   * of the whole shard until it restarts.
   */
  private forgetFinishedTransfers(): void {
    const state = this.replica.state
    for (const key of this.outgoing.keys()) {
      const [configNum, shard] = key.split('/').map(Number) as [number, number]
      if (configNum !== state.config.num || state.shards.get(shard)?.status !== 'offering') this.outgoing.delete(key)
    }
  }

  private async nextConfig(current: number): Promise<void> {
    const config = await this.options.controller.query(current + 1)
    if (config.num !== current + 1 || this.stopped) return
    await this.replica.execute({ kind: 'config', config }).catch(() => undefined)
  }

  /**
   * The controller names this group's servers in every configuration. When the group's own
   * membership (committed) lists other addresses — a server joined, left or moved — the leader
   * tells the controller, so that clerks and other groups find the servers the group has now.
   * A group not in the configuration is left alone: joining and leaving are the operator's.
   */
  private async reportServers(config: ShardConfig): Promise<void> {
    const membership = this.replica.raft.members()
    const listed = config.groups[this.replica.state.gid]
    if (!membership.committed || !listed) return
    const servers = membership.configuration.voters.map((member) => member.address)
    if (servers.some((address) => address === '')) return // Simulated groups name their servers; they have no addresses.
    if (servers.length === listed.length && servers.every((address) => listed.includes(address))) return
    this.options.logger.info("telling the controller about the group's servers", { gid: this.replica.state.gid, servers: servers.join(',') })
    await this.options.controller.join({ [this.replica.state.gid]: servers })
  }

  /** The previous owner's servers for `shard`, as the group's previous configuration names them. */
  private previousOwners(shard: number): readonly string[] {
    const previous = this.replica.state.previous
    return previous.groups[previous.shards[shard] as number] ?? []
  }

  private stillPulling(shard: number, configNum: number): boolean {
    const state = this.replica.state
    return !this.stopped && state.config.num === configNum && state.shards.get(shard)?.status === 'pulling' && this.replica.raft.status().role === 'leader'
  }

  /** Pulls one shard chunk by chunk, each chunk through this group's log, from whichever previous owner answers. */
  private async pull(shard: number, configNum: number): Promise<void> {
    this.pulling.add(shard)
    try {
      const sources = this.previousOwners(shard)
      let sourceIndex = 0
      while (this.stillPulling(shard, configNum)) {
        if (await this.pullFrom(sources[sourceIndex % Math.max(1, sources.length)], shard, configNum)) continue
        sourceIndex++
        if (sourceIndex % Math.max(1, sources.length) === 0) await this.pause()
      }
    } finally {
      this.pulling.delete(shard)
    }
  }

  /**
   * Fetches chunks from `source` from where this group's log has got to, and proposes each: up to
   * maxChunksInFlight proposed and not yet applied while the next one is fetched. Stops at the
   * last chunk, or at the first that fails (the caller starts again from the log's progress);
   * false if the source had nothing to give.
   */
  private async pullFrom(source: string | undefined, shard: number, configNum: number): Promise<boolean> {
    const progress = this.replica.state.shards.get(shard)?.transfer
    let transferId = progress?.id ?? ''
    let index = progress?.nextChunk ?? 0
    const maxInFlight = Math.max(1, this.options.maxChunksInFlight ?? 1)
    const inFlight: Array<Promise<boolean>> = []
    let failed = false
    const settleOldest = async (): Promise<void> => {
      if (!(await (inFlight.shift() as Promise<boolean>))) failed = true
    }
    let fetched = false
    while (!failed && this.stillPulling(shard, configNum)) {
      const reply = await this.call(source, fetchShardMethod, { configNum, shard, transferId, index })
      if (!reply || reply.err !== 'OK') break
      // Checked here, at the door: a chunk that does not decode must not reach the log.
      const malformed = chunkPayloadFault(reply.payload)
      if (malformed) {
        this.options.logger.warn('refused a malformed shard chunk', { shard, configNum, source: source ?? '', index, reason: malformed })
        break
      }
      fetched = true
      if (this.pacer) {
        await this.pacer.take(reply.payload.length)
        if (!this.stillPulling(shard, configNum)) break
      }
      if (reply.transferId !== transferId) {
        // The source began another transfer (a new leader there): its chunk 0, after everything of the old one settles.
        while (inFlight.length > 0) await settleOldest()
        transferId = reply.transferId
        index = 0
      }
      while (inFlight.length >= maxInFlight) await settleOldest()
      if (failed) break
      // The chunk goes into the log as it came, not decoded here: only the reducer reads it.
      inFlight.push(
        this.replica.executeEncoded(encodeChunkCommand({ configNum, shard, transferId, index }, reply.payload)).then(
          (result) => result?.err === 'OK',
          () => false,
        ),
      )
      if (++index >= reply.chunkCount) break
    }
    while (inFlight.length > 0) await settleOldest()
    return fetched
  }

  /** Tells the previous owner it may delete `shard`, then records that it did. */
  private async confirmDeletion(shard: number, configNum: number): Promise<void> {
    this.confirming.add(shard)
    try {
      const sources = this.previousOwners(shard)
      for (let attempt = 0; attempt < Math.max(1, sources.length) && !this.stopped; attempt++) {
        const reply = await this.call(sources[attempt], deleteShardMethod, { configNum, shard })
        if (reply?.err === 'OK') {
          await this.replica.execute({ kind: 'gc-done', configNum, shard }).catch(() => undefined)
          return
        }
      }
    } finally {
      this.confirming.delete(shard)
    }
  }

  private async call<Request, Reply>(
    server: string | undefined,
    method: Parameters<typeof invoke<Request, Reply>>[2],
    request: Request,
  ): Promise<Reply | null> {
    if (!server) return null
    try {
      return await invoke(this.options.transport, server, method, request, { timeoutMs: this.options.rpcTimeoutMs ?? 1000 })
    } catch {
      return null
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimeout(resolve, this.options.pollIntervalMs ?? 100))
  }
}

function reply(err: KvReply['err'], result: KvResult = EMPTY_RESULT): KvReply {
  return { err, result, leaderHint: '' }
}
