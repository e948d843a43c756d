// A frozen shard planned into chunks (from the live shard, or from a snapshot plus the log segment
// since) and applied by the new owner's reducer rebuilds to the same keys, hash fields, times to
// live, log time and sessions; the closing digest catches a chunk that lost, invented or changed a
// key, a field, a deadline or the log time, or an operation replayed twice. Chunks recorded before
// issue 16 (a 'data' chunk, an 'end' with the sorted digest) still rebuild a shard.

import t, { type Test } from 'tap'
import { Rng } from '../src/base/rng.js'
import { BinaryReader } from '../src/base/bytes.js'
import { EntryType } from '../src/raft/index.js'
import { openMemoryLog } from '../src/log/index.js'
import type { LogStore } from '../src/log/log-store.js'
import type { KvCommand } from '../src/kv/kv.js'
import { envelopeCodec } from '../src/statemachine/envelope.js'
import { encodeCheckpoint, initialFold } from '../src/statemachine/fold.js'
import { DEFAULT_SESSION_LIMITS } from '../src/statemachine/sessions.js'
import { type ShardConfig, firstByteShard } from '../src/shard/config.js'
import { type ChunkPayload, chunkPayloadFault, decodeChunkPayload, encodeGroupCommand } from '../src/shard/group-codec.js'
import { type GroupCommand, type GroupResult, type GroupState, groupMachine } from '../src/shard/group-machine.js'
import { ShardOperationTracker, type TransferPlan, planTransfer } from '../src/shard/migration-source.js'
import { ShardDigest } from '../src/shard/shard-digest.js'
import { type ShardState, sortedShardDigest } from '../src/shard/shard-state.js'
import { kvResultCodec } from '../src/kv/kv.js'
import { seededTest } from './helpers/sim.js'

const SHARDS = 4
/** The shard that moves from group 1 to group 2; its keys begin with '2' under firstByteShard. */
const MOVED = 2
const limits = DEFAULT_SESSION_LIMITS
const machines = { 1: machineOf(1), 2: machineOf(2) }

function machineOf(gid: number): ReturnType<typeof groupMachine> {
  return groupMachine({ gid, shardCount: SHARDS, keyToShard: firstByteShard, sessionLimits: limits })
}

function config(num: number, owner: number): ShardConfig {
  return { num, shards: [1, 1, owner, 1], groups: { 1: ['a'], 2: ['b'] } }
}

function run(gid: 1 | 2, state: GroupState, command: GroupCommand): GroupResult {
  return machines[gid].apply(state, command, { index: 0, term: 0, timeMs: 0 }).result
}

/** A random write to the moved shard (to keys named after `group`): strings, appends, hashes, times to live, deletions. */
function write(rng: Rng, group: string): KvCommand {
  const key = `${MOVED}:${group}:${rng.int(300)}`
  switch (rng.int(6)) {
    case 0:
      return { op: 'put', key, value: 'v'.repeat(rng.int(120)) }
    case 1:
      return { op: 'append', key, value: 'a'.repeat(1 + rng.int(20)) }
    case 2:
      return { op: 'hset', key: `${key}h`, value: '', fields: [`f${rng.int(5)}`, `g${rng.int(5)}`], values: ['x'.repeat(rng.int(9)), 'y'] }
    case 3:
      return { op: 'put', key: `${key}t`, value: 'expiring', expiry: { kind: 'in', ms: 60_000 + rng.int(60_000) } }
    case 4:
      return { op: 'delete', key, value: '' }
    default:
      return { op: 'put', key, value: String(rng.int(1000)) }
  }
}

/** Group 1 serving every shard, with `writes` operations on the moved one, each at its own log time. */
function sourceGroup(rng: Rng, writes: number, clock: { ms: number; sequence: number }): GroupState {
  const state = machines[1].initial()
  run(1, state, { kind: 'config', config: config(1, 1) })
  for (let i = 0; i < writes; i++) write1(rng, state, clock, 'early')
  return state
}

function write1(rng: Rng, state: GroupState, clock: { ms: number; sequence: number }, group: string): GroupCommand {
  const command: GroupCommand = {
    kind: 'op',
    clientId: 1 + rng.int(4),
    sequence: ++clock.sequence,
    timeMs: (clock.ms += 1 + rng.int(50)),
    command: write(rng, group),
  }
  const result = run(1, state, command)
  if (result.err !== 'OK') throw new Error(`a write to the moved shard got ${result.err}`)
  return command
}

/** Group 2 at the configuration that gives it the moved shard: pulling it. */
function receivingGroup(): GroupState {
  const state = machines[2].initial()
  run(2, state, { kind: 'config', config: config(1, 1) })
  run(2, state, { kind: 'config', config: config(2, 2) })
  return state
}

function frozenShard(state: GroupState): ShardState {
  run(1, state, { kind: 'config', config: config(2, 2) })
  const frozen = state.shards.get(MOVED)
  if (frozen?.status !== 'offering') throw new Error('the moved shard is not offered')
  return frozen
}

async function plan(store: LogStore, frozen: ShardState, tracker: ShardOperationTracker, maxChunkBytes: number): Promise<TransferPlan> {
  return planTransfer({ store, frozen, shardId: MOVED, tracker, limits, maxChunkBytes, nextTurn: () => new Promise((resolve) => setImmediate(resolve)) })
}

/** Every chunk of `transfer`, decoded, as the new owner's leader proposes them. */
async function chunksOf(transfer: TransferPlan): Promise<ChunkPayload[]> {
  const chunks: ChunkPayload[] = []
  for (let index = 0; index < transfer.chunkCount; index++) {
    const encoded = await transfer.chunk(index)
    if (!encoded) throw new Error(`chunk ${index} of ${transfer.chunkCount} is missing`)
    chunks.push(decodeChunkPayload(new BinaryReader(encoded)))
  }
  return chunks
}

/** Applies `chunks` in order to a receiving group; returns the rebuilt shard (throws where the reducer refuses). */
function rebuild(chunks: readonly ChunkPayload[]): ShardState {
  const state = receivingGroup()
  chunks.forEach((payload, index) => {
    const result = run(2, state, { kind: 'chunk', configNum: 2, shard: MOVED, transferId: 'x', index, payload })
    if (result.err !== 'OK') throw new Error(`chunk ${index} (${payload.kind}) got ${result.err}`)
  })
  const shard = state.shards.get(MOVED)
  if (!shard) throw new Error('the moved shard is not held')
  return shard
}

function sameShard(t: Test, rebuilt: ShardState, frozen: ShardState): void {
  t.equal(rebuilt.status, 'serving', 'the new owner serves the shard')
  t.same([...rebuilt.data.entries].sort(), [...frozen.data.entries].sort(), 'every key with its value and hash fields')
  t.same([...rebuilt.data.deadlines].sort(), [...frozen.data.deadlines].sort(), 'every time to live')
  t.equal(rebuilt.data.clockMs, frozen.data.clockMs, 'the log time')
  t.same(Buffer.from(rebuilt.sessions.encode(kvResultCodec)), Buffer.from(frozen.sessions.encode(kvResultCodec)), 'the sessions')
}

/** Entries of the chunks, changed by `change` (which returns false where it found nothing to change). */
function tampered(chunks: readonly ChunkPayload[], change: (payload: ChunkPayload) => ChunkPayload | null): ChunkPayload[] {
  let changed = false
  const out = chunks.map((payload) => {
    if (changed) return payload
    const next = change(payload)
    if (next === null) return payload
    changed = true
    return next
  })
  if (!changed) throw new Error('the tampering found nothing to change')
  return out
}

type Tamper = (payload: ChunkPayload) => ChunkPayload | null

const tampers: Record<string, Tamper> = {
  'a key lost': (payload) => (payload.kind === 'entries' && payload.entries.length > 1 ? { ...payload, entries: payload.entries.slice(1) } : null),
  'a key invented': (payload) =>
    payload.kind === 'entries' ? { ...payload, entries: [...payload.entries, { key: `${MOVED}:invented`, value: 'x', deadline: undefined }] } : null,
  'a value changed': (payload) => {
    if (payload.kind !== 'entries') return null
    const at = payload.entries.findIndex((entry) => typeof entry.value === 'string' && entry.value.length > 0)
    if (at < 0) return null
    const entries = [...payload.entries]
    const entry = entries[at] as (typeof entries)[number]
    entries[at] = { ...entry, value: `${entry.value as string}!` }
    return { ...payload, entries }
  },
  'a hash field changed': (payload) => {
    if (payload.kind !== 'entries') return null
    const at = payload.entries.findIndex((entry) => typeof entry.value === 'object')
    if (at < 0) return null
    const entries = [...payload.entries]
    const entry = entries[at] as (typeof entries)[number]
    const fields = new Map(entry.value as Map<string, string>)
    const [field, value] = [...fields][0] as [string, string]
    fields.set(field, `${value}!`)
    entries[at] = { ...entry, value: fields }
    return { ...payload, entries }
  },
  'a time to live lost': (payload) => {
    if (payload.kind !== 'entries') return null
    const at = payload.entries.findIndex((entry) => entry.deadline !== undefined)
    if (at < 0) return null
    const entries = [...payload.entries]
    entries[at] = { ...(entries[at] as (typeof entries)[number]), deadline: undefined }
    return { ...payload, entries }
  },
  // Ahead rather than behind: the operations replayed after it would carry a log time behind forward again.
  'the log time an hour ahead': (payload) => (payload.kind === 'clock' ? { kind: 'clock', clockMs: payload.clockMs + 3_600_000 } : null),
}

seededTest(t, 'a live frozen shard moves whole in chunks, and its digest catches any lost, invented or changed part', async (seed, t) => {
  const rng = new Rng(seed)
  const clock = { ms: 1_700_000_000_000, sequence: 0 }
  const frozen = frozenShard(sourceGroup(rng, 1500, clock))
  const transfer = await plan(await openMemoryLog(), frozen, new ShardOperationTracker(), 512 + rng.int(2048))
  t.equal(transfer.source, 'live', 'no snapshot: the frozen shard is sent as it is')
  const chunks = await chunksOf(transfer)
  t.ok(chunks.filter((payload) => payload.kind === 'entries').length > 5, `${chunks.length} chunks`)
  t.equal(chunks.at(-1)?.kind, 'seal', 'the last chunk carries the digest')
  sameShard(t, rebuild(chunks), frozen)
  // What the new owner checks at the door before a fetched chunk goes into its log.
  const encoded = (await transfer.chunk(0)) as Uint8Array
  t.equal(chunkPayloadFault(encoded), null, 'a chunk as sent is well formed')
  t.ok(chunkPayloadFault(encoded.subarray(0, encoded.length - 1)), 'one cut short is not')
  t.ok(chunkPayloadFault(Buffer.concat([encoded, Uint8Array.of(0)])), 'nor one with a byte after its entries')
  t.ok(chunkPayloadFault(Uint8Array.of(200)), 'nor one of a kind this build does not know')
  for (const [name, tamper] of Object.entries(tampers)) {
    t.throws(() => rebuild(tampered(chunks, tamper)), /did not rebuild to the source's state/, `${name}: the digest does not match`)
  }
})

seededTest(t, "a shard moves as its snapshot's encoded entries plus the operations since, and an operation replayed twice is caught", async (seed, t) => {
  const rng = new Rng(seed)
  const clock = { ms: 1_700_000_000_000, sequence: 0 }
  const state = sourceGroup(rng, 1000, clock)
  const tracker = new ShardOperationTracker()
  const snapshotIndex = 100
  const folded = { ...initialFold(machines[1], limits), state, index: snapshotIndex, term: 1 }
  const store = await openMemoryLog()
  await store.saveSnapshot({ lastIncludedIndex: snapshotIndex, lastIncludedTerm: 1 }, encodeCheckpoint(machines[1], folded))
  tracker.observe({ kind: 'snapshot', index: snapshotIndex, term: 1, clientId: 0, sequence: 0, result: undefined }, state)
  // Writes after the snapshot, which only the log has, to other keys: none undoes a tampered key of the snapshot.
  for (let index = snapshotIndex + 1; index <= snapshotIndex + 200; index++) {
    const command = write1(rng, state, clock, 'late')
    const encoded = envelopeCodec.encode({ clientId: 0, sequence: 0, timeMs: clock.ms, command: encodeGroupCommand(command) })
    await store.append([{ index, term: 1, type: EntryType.Command, data: encoded }])
    const result = { err: 'OK', kv: null, shard: MOVED, event: 'op' } as const
    tracker.observe({ kind: 'applied', index, term: 1, clientId: 0, sequence: 0, result }, state)
  }
  const frozen = frozenShard(state)
  const transfer = await plan(store, frozen, tracker, 512 + rng.int(2048))
  t.equal(transfer.source, 'snapshot+log', 'the snapshot holds the shard whole')
  t.equal(transfer.segmentOperations, 200, 'with the 200 operations since')
  const chunks = await chunksOf(transfer)
  sameShard(t, rebuild(chunks), frozen)
  for (const [name, tamper] of Object.entries(tampers)) {
    t.throws(() => rebuild(tampered(chunks, tamper)), /did not rebuild to the source's state/, `${name}: the digest does not match`)
  }
  // A segment replayed twice, as if its sessions had been lost: the appends land twice.
  const replayedTwice = tampered(chunks, (payload) => {
    if (payload.kind !== 'ops' || !payload.operations.some((operation) => operation.command.op === 'append')) return null
    const once = payload.operations.map((operation) => ({ ...operation, clientId: 0 }))
    return { kind: 'ops', operations: [...once, ...once] }
  })
  t.throws(() => rebuild(replayedTwice), /did not rebuild to the source's state/, 'an operation applied twice: the digest does not match')
})

t.test("chunks recorded before issue 16 ('data', and 'end' with the sorted digest) still rebuild a shard, and a wrong one is still caught", async (t) => {
  const rng = new Rng(7)
  const state = machines[1].initial()
  run(1, state, { kind: 'config', config: config(1, 1) })
  for (let i = 0; i < 50; i++)
    run(1, state, { kind: 'op', clientId: 1, sequence: i + 1, timeMs: 1000 + i, command: { op: 'put', key: `${MOVED}:${i}`, value: 'o'.repeat(rng.int(30)) } })
  const frozen = frozenShard(state)
  const data: Array<[string, string]> = [...frozen.data.entries].map(([key, value]) => [key, value as string])
  const legacy = (digest: Uint8Array): ChunkPayload[] => [
    { kind: 'data', entries: data.slice(0, 20) },
    { kind: 'data', entries: data.slice(20) },
    { kind: 'clock', clockMs: frozen.data.clockMs },
    { kind: 'sessions', encoded: frozen.sessions.encode(kvResultCodec) },
    { kind: 'end', digest },
  ]
  sameShard(t, rebuild(legacy(sortedShardDigest(frozen))), frozen)
  const wrong = Uint8Array.from(sortedShardDigest(frozen))
  wrong[0] = (wrong[0] as number) ^ 1
  t.throws(() => rebuild(legacy(wrong)), /did not rebuild/, "an 'end' digest that does not match stops the replica")
})

t.test('the shard digest does not depend on the order of keys or of a hash’s fields, and taking a key out undoes adding it', async (t) => {
  const forward = new ShardDigest()
  const backward = new ShardDigest()
  const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
  for (const key of keys) forward.add(key, `value of ${key}`, undefined)
  for (const key of [...keys].reverse()) backward.add(key, `value of ${key}`, undefined)
  const sessions = new Uint8Array(0)
  t.same(Buffer.from(forward.finish(5, sessions)), Buffer.from(backward.finish(5, sessions)), 'keys in any order')
  /** The digest of one hash key "h" with `fields`, in the order given. */
  const hashDigest = (fields: Array<[string, string]>): Buffer => {
    const digest = new ShardDigest()
    digest.add('h', new Map(fields), 99)
    return Buffer.from(digest.finish(0, sessions))
  }
  const hashOne = hashDigest([
    ['a', '1'],
    ['b', '2'],
  ])
  t.same(
    hashOne,
    hashDigest([
      ['b', '2'],
      ['a', '1'],
    ]),
    'fields in any order',
  )
  t.notSame(
    hashDigest([
      ['a', '2'],
      ['b', '1'],
    ]),
    hashOne,
    'but not values swapped between fields',
  )
  forward.add('extra', 'x', 12)
  forward.remove('extra', 'x', 12)
  t.same(Buffer.from(forward.finish(5, sessions)), Buffer.from(backward.finish(5, sessions)), 'add then remove leaves the digest as it was')
  t.notSame(Buffer.from(forward.finish(6, sessions)), Buffer.from(backward.finish(5, sessions)), 'log time is part of it')
})
