// A replica group's snapshot encoded piece by piece while its commands keep applying holds the
// group as it was when the snapshot began: client operations on serving shards, chunks of a shard
// being pulled (and a restarted transfer), a deleted shard and cleared confirmations in between.
import t from 'tap'
import { Rng } from '../src/base/rng.js'
import { DEFAULT_SESSION_LIMITS } from '../src/statemachine/sessions.js'
import { type ShardConfig, firstByteShard } from '../src/shard/config.js'
import { BinaryReader, BinaryWriter } from '../src/base/bytes.js'
import type { KvEntry } from '../src/kv/kv-state-encoding.js'
import { decodeChunkPayload, encodeChunkPayload, encodeGroupState } from '../src/shard/group-codec.js'
import { type ClientOperation, type GroupCommand, type GroupState, groupMachine } from '../src/shard/group-machine.js'
import { seededTest } from './helpers/sim.js'

const SHARDS = 4
const GID = 1
const machine = groupMachine({ gid: GID, shardCount: SHARDS, keyToShard: firstByteShard, sessionLimits: DEFAULT_SESSION_LIMITS })

function config(num: number, shards: number[]): ShardConfig {
  return { num, shards, groups: { 1: ['a'], 2: ['b'], 3: ['c'] } }
}

/** A key of `shard` under firstByteShard ('0'..'3' are 48..51). */
function keyOf(rng: Rng, shard: number): string {
  return String.fromCharCode(48 + shard) + String(rng.int(400))
}

function operation(rng: Rng, clientId: number, sequence: number, shard: number): ClientOperation {
  const op = (['put', 'append', 'delete', 'get'] as const)[rng.int(4)] ?? 'put'
  return {
    clientId,
    sequence,
    timeMs: sequence,
    command: { op, key: keyOf(rng, shard), value: op === 'get' || op === 'delete' ? '' : 'v'.repeat(rng.int(80)) },
  }
}

function run(state: GroupState, command: GroupCommand): void {
  const { result } = machine.apply(state, command, { index: 0, term: 0, timeMs: 0 })
  if (command.kind !== 'op' && result.err !== 'OK') throw new Error(`setup command ${command.kind} got ${result.err}`)
}

seededTest(t, 'a group snapshot encoded between commands equals the whole encoding of the group at the start', async (seed, t) => {
  const rng = new Rng(seed)
  const state = machine.initial()
  let sequence = 0
  const chunk = (index: number, transferId: string, entries: Array<[string, string]>): GroupCommand => ({
    kind: 'chunk',
    configNum: 3,
    shard: 2,
    transferId,
    index,
    payload: { kind: 'data', entries },
  })
  const dataFor = (shard: number, count: number): Array<[string, string]> =>
    Array.from({ length: count }, () => [keyOf(rng, shard), 'c'.repeat(rng.int(60))] as [string, string])
  // Shards 0..3 served here; 2 and 3 handed to groups 2 and 3; 2 deleted and then pulled back.
  run(state, { kind: 'config', config: config(1, [GID, GID, GID, GID]) })
  for (let i = 0; i < 1500; i++) run(state, { kind: 'op', ...operation(rng, 1 + rng.int(5), ++sequence, rng.int(SHARDS)) })
  run(state, { kind: 'config', config: config(2, [GID, GID, 2, 3]) })
  run(state, { kind: 'delete', configNum: 2, shard: 2 })
  // Shard 3 stays offering; config 3 is refused until it is gone, so delete it and keep a new one offering.
  run(state, { kind: 'delete', configNum: 2, shard: 3 })
  run(state, { kind: 'config', config: config(3, [GID, 3, GID, 3]) })
  run(state, chunk(0, 'first', dataFor(2, 200)))
  run(state, chunk(1, 'first', dataFor(2, 200)))
  t.same(
    [...state.shards.entries()].map(([id, shard]) => [id, shard.status]),
    [
      [0, 'serving'],
      [1, 'offering'],
      [2, 'pulling'],
    ],
  )

  const expected = Buffer.from(encodeGroupState(state))
  const encoding = machine.encodeIncrementally?.(state)
  if (!encoding) throw new Error('the group machine encodes incrementally')
  const pieces: Uint8Array[] = []
  let nextChunk = 2
  let transferId = 'first'
  let applied = 0
  for (let piece = encoding.next(1 + rng.int(2048)); piece !== null; piece = encoding.next(1 + rng.int(2048))) {
    pieces.push(piece)
    for (let n = rng.int(12); n > 0; n--) {
      const roll = rng.int(10)
      let command: GroupCommand
      if (roll < 6) command = { kind: 'op', ...operation(rng, 1 + rng.int(5), ++sequence, rng.int(SHARDS)) }
      else if (roll < 8) command = chunk(nextChunk++, transferId, dataFor(2, 1 + rng.int(20)))
      else if (roll === 8 && rng.chance(0.2)) {
        transferId = `again-${sequence}`
        nextChunk = 1
        command = chunk(0, transferId, dataFor(2, 10))
      } else command = rng.chance(0.5) ? { kind: 'gc-done', configNum: 3, shard: 0 } : { kind: 'delete', configNum: 3, shard: 1 }
      encoding.preserve(command)
      machine.apply(state, command, { index: 0, term: 0, timeMs: 0 })
      applied++
    }
  }
  t.ok(pieces.length > 10, `${pieces.length} pieces, ${applied} commands applied between them`)
  t.ok(Buffer.concat(pieces).equals(expected), 'the pieces are the group as it was, byte for byte')
  t.notOk(Buffer.from(encodeGroupState(state)).equals(expected), 'while the group itself moved on')
})

t.test("a big shard's length is measured over several pieces, and the pieces still make the whole encoding", async (t) => {
  const state = machine.initial()
  run(state, { kind: 'config', config: config(1, [GID, GID, GID, GID]) })
  // More keys than one piece measures, so some pieces carry only the measuring.
  for (let i = 0; i < 40_000; i++) run(state, { kind: 'op', clientId: 1, sequence: i + 1, timeMs: i, command: { op: 'put', key: `1:${i}`, value: 'x' } })
  const expected = Buffer.from(encodeGroupState(state))
  const encoding = machine.encodeIncrementally?.(state)
  if (!encoding) throw new Error('the group machine encodes incrementally')
  const pieces: Uint8Array[] = []
  for (let piece = encoding.next(64 * 1024); piece !== null; piece = encoding.next(64 * 1024)) pieces.push(piece)
  t.ok(
    pieces.some((piece) => piece.length === 0),
    `${pieces.filter((piece) => piece.length === 0).length} of ${pieces.length} pieces only measured`,
  )
  t.ok(Buffer.concat(pieces).equals(expected), 'the pieces are the group, byte for byte')
})

seededTest(t, "a pulling shard's snapshot copies the entries its transfer received, and equals the shard encoded key by key", async (seed, t) => {
  const rng = new Rng(seed)
  const state = machine.initial()
  run(state, { kind: 'config', config: config(1, [GID, GID, 3, GID]) })
  run(state, { kind: 'config', config: config(2, [GID, GID, GID, GID]) })
  let index = 0
  /** An entries chunk as the new owner's log holds it: encoded by the source, decoded by the reducer. */
  const entriesChunk = (entries: KvEntry[]): GroupCommand => {
    const payload = decodeChunkPayload(new BinaryReader(encodeChunkPayload(new BinaryWriter(), { kind: 'entries', entries }).finish()))
    return { kind: 'chunk', configNum: 2, shard: 2, transferId: 't', index: index++, payload }
  }
  let keys = 0
  // Each key once, as a source sends them.
  const entries = (count: number): KvEntry[] =>
    Array.from({ length: count }, () => ({
      key: `2:${keys++}`,
      value: rng.chance(0.2) ? new Map([['f', 'v'.repeat(rng.int(9))]]) : 'x'.repeat(rng.int(40)),
      deadline: rng.chance(0.3) ? 1_700_000_000_000 + rng.int(1000) : undefined,
    }))
  run(state, entriesChunk(entries(300)))
  run(state, { kind: 'chunk', configNum: 2, shard: 2, transferId: 't', index: index++, payload: { kind: 'clock', clockMs: 1_700_000_000_500 } })
  run(state, entriesChunk(entries(300)))
  t.ok(state.shards.get(2)?.transfer?.arrived, 'the shard holds exactly what arrived, so a snapshot copies it')

  const expected = Buffer.from(encodeGroupState(state))
  const encoding = machine.encodeIncrementally?.(state)
  if (!encoding) throw new Error('the group machine encodes incrementally')
  const pieces: Uint8Array[] = []
  for (let piece = encoding.next(1 + rng.int(4096)); piece !== null; piece = encoding.next(1 + rng.int(4096))) {
    pieces.push(piece)
    // More chunks arrive meanwhile, and, last, the operations since the source's snapshot.
    const command = rng.chance(0.7)
      ? entriesChunk(entries(1 + rng.int(20)))
      : {
          kind: 'chunk' as const,
          configNum: 2,
          shard: 2,
          transferId: 't',
          index: index++,
          payload: { kind: 'ops' as const, operations: [operation(rng, 9, 1000 + index, 2)] },
        }
    encoding.preserve(command)
    run(state, command)
  }
  t.ok(Buffer.concat(pieces).equals(expected), 'the pieces are the group as it was, byte for byte')
  run(state, { kind: 'chunk', configNum: 2, shard: 2, transferId: 't', index: index++, payload: { kind: 'ops', operations: [operation(rng, 9, 5000, 2)] } })
  t.equal(state.shards.get(2)?.transfer?.arrived ?? null, null, 'an operation applied: the next snapshot encodes the shard key by key')
})
