// A KV snapshot encoded piece by piece while commands keep applying holds the state as it was when
// the snapshot began: the encoding alone under random interleavings, and the runtime writing one
// to a log store that takes its time while a client keeps writing.
import t from 'tap'
import { memoryDatabase } from '../src/log/backends.js'
import { type LevelDatabase, LogStore } from '../src/log/log-store.js'
import { RaftNode } from '../src/raft/node.js'
import type { AppliedMessage } from '../src/raft/node.js'
import { sleep } from '../src/base/clock.js'
import { Rng } from '../src/base/rng.js'
import { decodeCheckpoint, encodeCheckpoint, foldMessage, initialFold } from '../src/statemachine/fold.js'
import { type KvCommand, KvState, kvMachine, kvStateCodec } from '../src/kv/kv.js'
import { KvStateEncoding } from '../src/kv/kv-state-encoding.js'
import { ReplicatedStateMachine } from '../src/statemachine/runtime.js'
import { DEFAULT_SESSION_LIMITS } from '../src/statemachine/sessions.js'
import { BinaryWriter } from '../src/base/bytes.js'
import { withOverrides } from './helpers/log.js'
import { seededTest, simTest } from './helpers/sim.js'

const machine = kvMachine({ appendReturnsOldValue: false })

function randomText(rng: Rng, maxLength: number): string {
  return Buffer.from(rng.bytes(rng.int(maxLength + 1))).toString('latin1')
}

function randomCommand(rng: Rng, keys: readonly string[]): KvCommand {
  const key = rng.chance(0.7) && keys.length > 0 ? (keys[rng.int(keys.length)] as string) : `new:${rng.int(1_000_000)}`
  const other = keys.length > 0 ? (keys[rng.int(keys.length)] as string) : 'other'
  switch (rng.int(12)) {
    case 0:
      return { op: 'get', key, value: '' }
    case 1:
      return { op: 'append', key, value: randomText(rng, 40) }
    case 2:
      return { op: 'delete', key, value: '', keys: [other] }
    case 3:
      return { op: 'put', key, value: randomText(rng, 40), expiry: { kind: 'in', ms: 1 + rng.int(50) } }
    case 4:
      return { op: 'expire', key, value: '', expiry: { kind: 'in', ms: rng.int(50) } }
    case 5:
      return { op: 'persist', key, value: '' }
    case 6:
      return { op: 'hset', key: `hash:${rng.int(20)}`, value: '', fields: [randomText(rng, 5)], values: [randomText(rng, 20)] }
    case 7:
      return { op: 'hdel', key: `hash:${rng.int(20)}`, value: '', fields: [randomText(rng, 5)] }
    case 8:
      return { op: 'mset', key, value: '', keys: [other], values: [randomText(rng, 10), randomText(rng, 10)] }
    case 9:
      return {
        op: 'multi',
        key: '',
        value: '',
        commands: [
          { op: 'put', key, value: randomText(rng, 10) },
          { op: 'hset', key: `hash:${rng.int(20)}`, value: '', fields: ['f'], values: ['v'] },
          { op: 'getdel', key: other, value: '' },
        ],
      }
    case 10:
      return rng.chance(0.05) ? { op: 'flush', key: '', value: '' } : { op: 'incr', key, value: '1' }
    default:
      return { op: 'put', key, value: randomText(rng, 40) }
  }
}

seededTest(t, 'pieces encoded between commands equal the whole encoding of the state at the start', async (seed, t) => {
  const rng = new Rng(seed)
  let state = new KvState()
  for (let i = 0; i < 2000; i++) state.set(`key:${rng.int(5000)}`, randomText(rng, 60))
  for (let i = 0; i < 20; i++) state.set(`hash:${i}`, new Map([['f', randomText(rng, 10)]]))
  for (let i = 0; i < 200; i++) state.setDeadline(`key:${rng.int(5000)}`, rng.int(1000))
  for (const key of [...state.deadlines.keys()]) if (!state.entries.has(key)) state.setDeadline(key, undefined)
  const expected = Buffer.from(kvStateCodec.encode(state))
  const keys = [...state.entries.keys()]
  let timeMs = 0
  const encoding = new KvStateEncoding(state)
  const pieces: Uint8Array[] = []
  let applied = 0
  for (let piece = encoding.next(1 + rng.int(4096)); piece !== null; piece = encoding.next(1 + rng.int(4096))) {
    pieces.push(piece)
    for (let n = rng.int(30); n > 0; n--) {
      const command = randomCommand(rng, keys)
      encoding.preserve(command)
      timeMs += rng.int(3)
      state = machine.apply(state, command, { index: 0, term: 0, timeMs }).state
      applied++
    }
  }
  t.ok(pieces.length > 10, `${pieces.length} pieces, ${applied} commands applied between them`)
  t.ok(Buffer.concat(pieces).equals(expected), 'the pieces are the state as it was, byte for byte')
  t.notOk(Buffer.from(kvStateCodec.encode(state)).equals(expected), 'while the state itself moved on')
})

/** A database whose puts (snapshot chunks) each take a millisecond of simulated time. */
function slowPuts(db: LevelDatabase, pause: () => Promise<void>): LevelDatabase {
  const put = async (...args: Parameters<LevelDatabase['put']>): Promise<void> => {
    await pause()
    return db.put(...args)
  }
  return withOverrides(db, (property) => (property === 'put' ? put : undefined))
}

simTest(
  t,
  'the runtime writes a multi-piece snapshot while commands apply, and it holds the state at its index',
  async (world, t) => {
    const store = await LogStore.open(
      slowPuts(memoryDatabase(), () => sleep(world.clock, 1)),
      { name: 'a', snapshotChunkBytes: 16 * 1024 },
    )
    const attachment = world.attachNode('a', [])
    const rng = world.rng.fork()
    const raft = await RaftNode.create({ id: 'a', members: ['a'], transport: attachment.transport, store, clock: world.clock, random: () => rng.float() })
    const committed: AppliedMessage[] = []
    raft.committed$.subscribe((message) => committed.push(message))
    const replica = new ReplicatedStateMachine({
      raft,
      machine,
      maxRaftStateBytes: 3 * 1024 * 1024,
      clock: world.clock,
      wallClockMs: () => world.clock.now(),
    })
    replica.start()
    while (raft.status().role !== 'leader') await sleep(world.clock, 10)
    // Values of 4 KiB over up to 1000 keys: a state of a few MiB, so the snapshot goes in many 128 KiB pieces.
    // One command at a time, a millisecond apart (as long as a chunk write takes), so any applied
    // past the snapshot's index ran while it was being written.
    let sequence = 0
    while (raft.status().snapshotIndex === 0) {
      await replica.execute(
        { op: 'put', key: `key:${rng.int(1000)}`, value: 'v'.repeat(4096 - 8) + String(sequence).padStart(8, '0') },
        { clientId: 7, sequence: ++sequence },
      )
      await sleep(world.clock, 1)
    }
    const snapshotIndex = raft.status().snapshotIndex
    t.ok(
      replica.appliedIndex > snapshotIndex + 10,
      `commands applied while the snapshot was written (applied ${replica.appliedIndex}, snapshot at ${snapshotIndex})`,
    )
    const stored = await store.readSnapshot()
    t.ok(stored.length > 1024 * 1024, `a snapshot of ${stored.length} bytes: many 128 KiB pieces`)
    // The reference: the same fold over the committed messages up to the snapshot's index, whole.
    let reference = initialFold(machine, DEFAULT_SESSION_LIMITS)
    for (const message of committed) if (message.index <= snapshotIndex) reference = foldMessage(machine, reference, message)
    t.equal(reference.index, snapshotIndex)
    t.ok(Buffer.from(stored).equals(Buffer.from(encodeCheckpoint(machine, reference))), 'the stored snapshot is exactly the checkpoint at its index')
    await replica.stop()
  },
  { maxVirtualMs: 600_000 },
)

t.test('a checkpoint round-trips, and one in another layout is refused, not misread', async (t) => {
  let folded = initialFold(machine, DEFAULT_SESSION_LIMITS)
  folded.state.set('x', 'one')
  folded.sessions.record(5, 1, { value: '', found: false, length: 3 }, 0)
  const checkpoint = encodeCheckpoint(machine, folded)
  const restored = decodeCheckpoint(machine, checkpoint, DEFAULT_SESSION_LIMITS)
  t.same([...restored.state.entries], [['x', 'one']])
  t.equal(restored.sessions.size, 1)
  // The layout before the magic: the state first, then the sessions, each length-prefixed.
  const older = new BinaryWriter().bytes(kvStateCodec.encode(folded.state)).bytes(folded.sessions.encode(machine.resultCodec)).finish()
  t.throws(() => decodeCheckpoint(machine, older, DEFAULT_SESSION_LIMITS), { code: 'ERR_CHECKPOINT_FORMAT', message: /checkpoint magic/ })
  t.throws(() => decodeCheckpoint(machine, new Uint8Array(0), DEFAULT_SESSION_LIMITS), { code: 'ERR_CHECKPOINT_FORMAT' })
  folded = initialFold(machine, DEFAULT_SESSION_LIMITS)
  t.equal(decodeCheckpoint(machine, encodeCheckpoint(machine, folded), DEFAULT_SESSION_LIMITS).state.size, 0, 'an empty fold too')
})
