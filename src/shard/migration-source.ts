// The sending side of a shard migration. A group that loses a shard sends the new owner the shard's
// snapshot plus the segment of its log with the operations on that shard since the snapshot,
// together with the shard's client sessions, in chunks. The new owner rebuilds the shard by
// applying the same operations with the same reducer, and checks the result against the digest of
// the frozen shard sent last.
//
// Nothing here holds the event loop for long: the plan cuts the snapshot's encoded entries into
// chunks at entry boundaries without decoding them, and encodes each chunk only when it is fetched;
// the digest of the frozen shard is summed a slice at a time, between other work.

import { filter, firstValueFrom, toArray } from 'rxjs'
import { BinaryWriter } from '../base/bytes.js'
import { assert } from '../base/assert.js'
import { CompactedError } from '../log/errors.js'
import type { LogStore } from '../log/log-store.js'
import { envelopeCodec } from '../statemachine/envelope.js'
import { type KvState, kvResultCodec } from '../kv/kv.js'
import { type KvEntry, EncodedEntries, decodeKvState, entryBytes } from '../kv/kv-state-encoding.js'
import { type Outcome, checkpointStateBytes } from '../statemachine/fold.js'
import type { SessionLimits } from '../statemachine/sessions.js'
import { type ChunkPayload, encodeChunkPayload, encodeEntriesChunk, encodeOperationsChunk, encodedOperation, shardSection } from './group-codec.js'
import type { GroupResult, GroupState } from './group-machine.js'
import { ShardDigest } from './shard-digest.js'
import { type ShardState, decodeShardHead } from './shard-state.js'

/** Entries whose boundaries are found, or keys summed into a digest, between two turns of the event loop. */
const ENTRIES_PER_TURN = 4096
/** Operations per chunk, whatever their size: the new owner decodes and replays a chunk's in one go. */
const MAX_OPERATIONS_PER_CHUNK = 512

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

/** How a planned chunk is made when it is fetched. */
type ChunkRecipe =
  /** Entries cut from the snapshot's encoded shard, sent on as they are. */
  | { kind: 'encoded'; count: number; entries: Uint8Array }
  /** Entries of a KV state that no longer changes (the frozen shard, or an old snapshot's decoded one). */
  | { kind: 'state'; state: KvState; keys: readonly string[] }
  /** Operations of the log segment as the log holds them (writeOperation's encoding), sent on as they are. */
  | { kind: 'operations'; operations: readonly Uint8Array[] }
  | { kind: 'payload'; payload: ChunkPayload }
  /** The closing chunk: the frozen shard's digest, once summed. */
  | { kind: 'seal' }

/** The chunks that move one frozen shard, each encoded when it is fetched. */
export class TransferPlan {
  constructor(
    /** Whether the shard came from the snapshot plus a log segment, or (no usable snapshot) as it is now. */
    readonly source: 'snapshot+log' | 'live',
    /** Operations of the log segment replayed on top of the snapshot's copy (0 for 'live'). */
    readonly segmentOperations: number,
    private readonly recipes: readonly ChunkRecipe[],
    private readonly digest: Promise<Uint8Array>,
  ) {}

  get chunkCount(): number {
    return this.recipes.length
  }

  /** Chunk `index`, encoded (encodeChunkPayload); null past the last. */
  async chunk(index: number): Promise<Uint8Array | null> {
    const recipe = this.recipes[index]
    if (!recipe) return null
    switch (recipe.kind) {
      case 'encoded':
        return encodeEntriesChunk(recipe.count, recipe.entries)
      case 'state':
        return encodeChunkPayload(new BinaryWriter(), { kind: 'entries', entries: recipe.keys.map((key) => entryOf(recipe.state, key)) }).finish()
      case 'operations':
        return encodeOperationsChunk(recipe.operations)
      case 'payload':
        return encodeChunkPayload(new BinaryWriter(), recipe.payload).finish()
      case 'seal':
        return encodeChunkPayload(new BinaryWriter(), { kind: 'seal', digest: await this.digest }).finish()
    }
  }
}

export interface BuildOptions {
  store: LogStore
  /** The live, frozen shard (status offering) as the state machine holds it. */
  frozen: ShardState
  shardId: number
  tracker: ShardOperationTracker
  limits: SessionLimits
  maxChunkBytes: number
  /** Resolves on a later turn of the event loop, so that long work lets other work run. */
  nextTurn: () => Promise<void>
}

function entryOf(state: KvState, key: string): KvEntry {
  const value = state.entries.get(key)
  assert(value !== undefined, () => `key ${JSON.stringify(key.slice(0, 64))} of a frozen shard disappeared while it was being sent`)
  return { key, value, deadline: state.deadlines.get(key) }
}

/** The encoded entries cut into chunks of about maxChunkBytes at entry boundaries. */
async function encodedChunks(encoded: EncodedEntries, options: BuildOptions): Promise<ChunkRecipe[]> {
  const recipes: ChunkRecipe[] = []
  let start = 0
  let offset = 0
  let count = 0
  for (let i = 0; i < encoded.count; i++) {
    if (i > 0 && i % ENTRIES_PER_TURN === 0) await options.nextTurn()
    const end = encoded.entryEnd(offset)
    if (count > 0 && end - start > options.maxChunkBytes) {
      recipes.push({ kind: 'encoded', count, entries: encoded.bytes.subarray(start, offset) })
      start = offset
      count = 0
    }
    offset = end
    count++
  }
  assert(offset === encoded.bytes.length, () => `a shard's ${encoded.count} encoded entries end at ${offset} of ${encoded.bytes.length} bytes`)
  if (count > 0) recipes.push({ kind: 'encoded', count, entries: encoded.bytes.subarray(start, offset) })
  return recipes
}

/** The keys of a state that no longer changes, cut into chunks of about maxChunkBytes. */
async function stateChunks(state: KvState, options: BuildOptions): Promise<ChunkRecipe[]> {
  const recipes: ChunkRecipe[] = []
  let keys: string[] = []
  let bytes = 0
  let listed = 0
  for (const key of state.entries.keys()) {
    if (++listed % ENTRIES_PER_TURN === 0) await options.nextTurn()
    const size = entryBytes(entryOf(state, key))
    if (keys.length > 0 && bytes + size > options.maxChunkBytes) {
      recipes.push({ kind: 'state', state, keys })
      keys = []
      bytes = 0
    }
    keys.push(key)
    bytes += size
  }
  if (keys.length > 0) recipes.push({ kind: 'state', state, keys })
  return recipes
}

function operationChunks(operations: readonly Uint8Array[], maxChunkBytes: number): ChunkRecipe[] {
  const recipes: ChunkRecipe[] = []
  let batch: Uint8Array[] = []
  let bytes = 0
  for (const operation of operations) {
    if (batch.length > 0 && (bytes + operation.length > maxChunkBytes || batch.length === MAX_OPERATIONS_PER_CHUNK)) {
      recipes.push({ kind: 'operations', operations: batch })
      batch = []
      bytes = 0
    }
    batch.push(operation)
    bytes += operation.length
  }
  if (batch.length > 0) recipes.push({ kind: 'operations', operations: batch })
  return recipes
}

/** The digest of the frozen shard, summed ENTRIES_PER_TURN keys at a time. */
async function frozenDigest(frozen: ShardState, options: BuildOptions): Promise<Uint8Array> {
  const digest = new ShardDigest()
  const { entries, deadlines, clockMs } = frozen.data
  let summed = 0
  for (const [key, value] of entries) {
    digest.add(key, value, deadlines.get(key))
    if (++summed % ENTRIES_PER_TURN === 0) await options.nextTurn()
  }
  return digest.finish(clockMs, frozen.sessions.encode(kvResultCodec))
}

/** What a plan sends before the log segment: the shard's entries, log time and sessions. */
interface ShardBase {
  entries: ChunkRecipe[]
  clockMs: number
  encodedSessions: Uint8Array
}

/** The shard's base as of the store's snapshot and the operations on it since, if the snapshot holds it whole. */
async function fromSnapshotAndLog(options: BuildOptions): Promise<{ base: ShardBase; operations: Uint8Array[] } | null> {
  const meta = options.store.snapshotMeta
  const history = options.tracker.history(options.shardId)
  if (!meta || !history || history.completeSince === null || history.completeSince > meta.lastIncludedIndex) return null
  const checkpoint = await options.store.readSnapshot()
  if (options.store.snapshotMeta !== meta) return null // A newer snapshot arrived meanwhile; the caller retries.
  const section = shardSection(checkpointStateBytes(checkpoint), options.shardId)
  if (!section) return null
  const { head, data } = decodeShardHead(section, options.limits)
  if (head.status === 'pulling') return null
  const encodedSessions = head.sessions.encode(kvResultCodec)
  const encoded = EncodedEntries.open(data)
  // A snapshot written before keys had types and deadlines is decoded: its layout cannot be cut as it is.
  const legacy = encoded ? null : decodeKvState(data)
  const base: ShardBase = encoded
    ? { entries: await encodedChunks(encoded, options), clockMs: encoded.clockMs, encodedSessions }
    : { entries: await stateChunks(legacy as KvState, options), clockMs: (legacy as KvState).clockMs, encodedSessions }
  let last = meta.lastIncludedIndex
  const wanted = new Set<number>()
  for (const index of history.operationIndexes) {
    if (index <= meta.lastIncludedIndex) continue
    wanted.add(index)
    last = Math.max(last, index)
  }
  if (wanted.size === 0) return { base, operations: [] }
  const entries = await firstValueFrom(
    options.store.entries$(meta.lastIncludedIndex + 1, last).pipe(
      filter((entry) => wanted.has(entry.index)),
      toArray(),
    ),
  )
  // Each operation goes on as the log holds it, undecoded.
  const operations: Uint8Array[] = []
  for (const entry of entries) {
    if (operations.length > 0 && operations.length % ENTRIES_PER_TURN === 0) await options.nextTurn()
    const operation = encodedOperation(envelopeCodec.decode(entry.data).command)
    if (!operation) throw new Error(`log entry ${entry.index} recorded as an operation on shard ${options.shardId} is another command`)
    operations.push(operation)
  }
  return { base, operations }
}

/** Plans the chunks that move one frozen shard. */
export async function planTransfer(options: BuildOptions): Promise<TransferPlan> {
  // Summed while the plan is made and the first chunks travel; only the closing chunk waits for it.
  const digest = frozenDigest(options.frozen, options)
  digest.catch(() => {}) // A plan that fails never sends its seal; the failure is the plan's to report.
  let rebuilt: { base: ShardBase; operations: Uint8Array[] } | null = null
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
  const frozen = options.frozen
  const base = rebuilt?.base ?? {
    entries: await stateChunks(frozen.data, options),
    clockMs: frozen.data.clockMs,
    encodedSessions: frozen.sessions.encode(kvResultCodec),
  }
  const operations = rebuilt?.operations ?? []
  const recipes: ChunkRecipe[] = [
    ...base.entries,
    { kind: 'payload', payload: { kind: 'clock', clockMs: base.clockMs } },
    { kind: 'payload', payload: { kind: 'sessions', encoded: base.encodedSessions } },
    ...operationChunks(operations, options.maxChunkBytes),
    { kind: 'seal' },
  ]
  return new TransferPlan(rebuilt ? 'snapshot+log' : 'live', operations.length, recipes, digest)
}
