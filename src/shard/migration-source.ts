// The sending side of a shard migration. A group that loses a shard sends the new owner the shard's
// snapshot plus the segment of its log with the operations on that shard since the snapshot,
// together with the shard's client sessions, in chunks. The new owner rebuilds the shard by
// applying the same operations with the same reducer, and checks the result against the digest of
// the frozen shard sent last.

import { filter, firstValueFrom, toArray } from 'rxjs'
import { CompactedError } from '../log/errors.js'
import type { LogStore } from '../log/log-store.js'
import { envelopeCodec } from '../statemachine/envelope.js'
import { type KvState, kvResultCodec } from '../kv/kv.js'
import { type KvEntry, entryBytes } from '../kv/kv-state-encoding.js'
import { type Outcome, checkpointStateBytes } from '../statemachine/fold.js'
import type { SessionLimits } from '../statemachine/sessions.js'
import { type ChunkPayload, decodeGroupCommand, extractShard } from './group-codec.js'
import type { ClientOperation, GroupResult, GroupState } from './group-machine.js'
import { type ShardState, shardDigest } from './shard-state.js'

interface ShardHistory {
  /** The log index from which the shard has been complete here (null while it is arriving). */
  completeSince: number | null
  /** Indexes of the operations that changed it since then. */
  operationIndexes: number[]
}

/**
 * Remembers, per shard, which log entries changed it since it became complete in this group: the
 * log segment a migration sends. Fed by the state machine's outcomes, so a restarted replica
 * rebuilds it by replaying its log from the snapshot, like everything else.
 */
export class ShardOperationTracker {
  private readonly histories = new Map<number, ShardHistory>()

  observe(outcome: Outcome<GroupResult>, state: GroupState): void {
    if (outcome.kind === 'snapshot') this.histories.clear()
    for (const shard of [...this.histories.keys()]) if (!state.shards.has(shard)) this.histories.delete(shard)
    for (const [shard, held] of state.shards) {
      const history = this.histories.get(shard)
      if (held.status === 'pulling') this.histories.set(shard, { completeSince: null, operationIndexes: [] })
      else if (!history || history.completeSince === null) this.histories.set(shard, { completeSince: outcome.index, operationIndexes: [] })
    }
    const result = outcome.result
    if (outcome.kind === 'applied' && result?.event === 'op') this.histories.get(result.shard)?.operationIndexes.push(outcome.index)
  }

  /** Forgets operations a snapshot through `snapshotIndex` already contains. */
  prune(snapshotIndex: number): void {
    for (const history of this.histories.values()) {
      if (history.completeSince === null || history.completeSince > snapshotIndex) continue
      const kept = history.operationIndexes.findIndex((index) => index > snapshotIndex)
      history.operationIndexes.splice(0, kept < 0 ? history.operationIndexes.length : kept)
    }
  }

  history(shard: number): Readonly<ShardHistory> | undefined {
    return this.histories.get(shard)
  }
}

export interface TransferPlan {
  /** Whether the shard came from the snapshot plus a log segment, or (no usable snapshot) as it is now. */
  source: 'snapshot+log' | 'live'
  chunks: ChunkPayload[]
  segmentOperations: number
}

export interface BuildOptions {
  store: LogStore
  /** The live, frozen shard (status offering) as the state machine holds it. */
  frozen: ShardState
  shardId: number
  tracker: ShardOperationTracker
  limits: SessionLimits
  maxChunkBytes: number
}

function dataChunks(data: KvState, maxChunkBytes: number): ChunkPayload[] {
  const chunks: ChunkPayload[] = []
  let entries: KvEntry[] = []
  let bytes = 0
  for (const [key, value] of data.entries) {
    const entry = { key, value, deadline: data.deadlines.get(key) }
    const size = entryBytes(entry)
    if (entries.length > 0 && bytes + size > maxChunkBytes) {
      chunks.push({ kind: 'entries', entries })
      entries = []
      bytes = 0
    }
    entries.push(entry)
    bytes += size
  }
  if (entries.length > 0) chunks.push({ kind: 'entries', entries })
  chunks.push({ kind: 'clock', clockMs: data.clockMs })
  return chunks
}

function operationChunks(operations: ClientOperation[], maxChunkBytes: number): ChunkPayload[] {
  const chunks: ChunkPayload[] = []
  let batch: ClientOperation[] = []
  let bytes = 0
  for (const operation of operations) {
    const size = operation.command.key.length + operation.command.value.length + 32
    if (batch.length > 0 && bytes + size > maxChunkBytes) {
      chunks.push({ kind: 'ops', operations: batch })
      batch = []
      bytes = 0
    }
    batch.push(operation)
    bytes += size
  }
  if (batch.length > 0) chunks.push({ kind: 'ops', operations: batch })
  return chunks
}

/** The shard as of the store's snapshot and the operations on it since, if the snapshot holds it whole. */
async function fromSnapshotAndLog(options: BuildOptions): Promise<{ base: ShardState; operations: ClientOperation[] } | null> {
  const meta = options.store.snapshotMeta
  const history = options.tracker.history(options.shardId)
  if (!meta || !history || history.completeSince === null || history.completeSince > meta.lastIncludedIndex) return null
  const checkpoint = await options.store.readSnapshot()
  if (options.store.snapshotMeta !== meta) return null // A newer snapshot arrived meanwhile; the caller retries.
  const stateBytes = checkpointStateBytes(checkpoint)
  const { shard } = extractShard(stateBytes, options.shardId, options.limits)
  if (!shard || shard.status === 'pulling') return null
  const wanted = new Set(history.operationIndexes.filter((index) => index > meta.lastIncludedIndex))
  if (wanted.size === 0) return { base: shard, operations: [] }
  const last = Math.max(...wanted)
  const entries = await firstValueFrom(
    options.store.entries$(meta.lastIncludedIndex + 1, last).pipe(
      filter((entry) => wanted.has(entry.index)),
      toArray(),
    ),
  )
  const operations = entries.map((entry) => {
    const command = decodeGroupCommand(envelopeCodec.decode(entry.data).command)
    if (command.kind !== 'op') throw new Error(`log entry ${entry.index} recorded as an operation on shard ${options.shardId} is a ${command.kind}`)
    const { clientId, sequence, timeMs } = command
    return { clientId, sequence, timeMs, command: command.command }
  })
  return { base: shard, operations }
}

/** Plans the chunks that move one frozen shard. */
export async function planTransfer(options: BuildOptions): Promise<TransferPlan> {
  let rebuilt: { base: ShardState; operations: ClientOperation[] } | null = null
  for (let attempt = 0; attempt < 3 && rebuilt === null; attempt++) {
    try {
      rebuilt = await fromSnapshotAndLog(options)
      if (rebuilt === null && options.store.snapshotMeta !== null) continue
      break
    } catch (error) {
      // Compacted while reading: a newer snapshot holds more of the shard; try again from it.
      if (!(error instanceof CompactedError)) throw error
    }
  }
  const base = rebuilt?.base ?? options.frozen
  const operations = rebuilt?.operations ?? []
  const chunks: ChunkPayload[] = [
    ...dataChunks(base.data, options.maxChunkBytes),
    { kind: 'sessions', encoded: base.sessions.encode(kvResultCodec) },
    ...operationChunks(operations, options.maxChunkBytes),
    { kind: 'end', digest: shardDigest(options.frozen) },
  ]
  return { source: rebuilt ? 'snapshot+log' : 'live', chunks, segmentOperations: operations.length }
}
