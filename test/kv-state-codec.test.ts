// The KV state's snapshot encoding: exact-size, byte-transparent, carrying types, deadlines and log
// time, still reading the layout written before those existed, and refusing truncated input.
import t from 'tap'
import { BinaryWriter } from '../src/base/bytes.js'
import { KvState, kvStateCodec } from '../src/kv/kv.js'

const everyByte = String.fromCharCode(...Array.from({ length: 256 }, (_, byte) => byte))

function sampleState(): KvState {
  return KvState.of(
    [
      ['', 'empty key'],
      ['empty value', ''],
      [everyByte, everyByte.split('').reverse().join('')],
      ['k'.repeat(70_000), 'v'.repeat(100_000)],
      [
        'a hash',
        new Map([
          [everyByte, 'x'],
          ['', ''],
        ]),
      ],
      ['empty hash field', new Map([['f', '']])],
    ],
    [
      ['empty value', 1_700_000_000_123],
      ['a hash', 1_800_000_000_000],
    ],
    1_700_000_000_000,
  )
}

function contents(state: KvState) {
  return { entries: [...state.entries], deadlines: [...state.deadlines].sort(), clockMs: state.clockMs }
}

t.test('a state round-trips byte for byte, in insertion order, with hashes, deadlines and log time', async (t) => {
  const state = sampleState()
  const decoded = kvStateCodec.decode(kvStateCodec.encode(state))
  t.same(contents(decoded), contents(state))
  t.equal(decoded.nextDeadline(), 1_700_000_000_123, 'the decoded state knows which key expires next')
  t.equal(decoded.get('empty value'), '')
})

t.test('the encoding is a marker, log time, a count and the entries, nothing more', async (t) => {
  const state = sampleState()
  let expected = 4 + 8 + 4
  for (const [key, value] of state.entries) {
    expected += 1 + 4 + key.length + 4 + (state.deadlines.has(key) ? 8 : 0)
    if (typeof value === 'string') expected += value.length
    else for (const [field, fieldValue] of value) expected += 8 + field.length + fieldValue.length
  }
  const bytes = Buffer.from(kvStateCodec.encode(state))
  t.equal(bytes.length, expected)
  t.equal(bytes.readUInt32BE(0), 0xffffffff)
  t.equal(bytes.readDoubleBE(4), state.clockMs)
  t.equal(bytes.readUInt32BE(12), state.size)
  t.equal(kvStateCodec.encode(new KvState()).length, 16)
  t.equal(kvStateCodec.decode(kvStateCodec.encode(new KvState())).size, 0)
})

t.test('a snapshot written before types and deadlines (a count, then keys and values) still decodes', async (t) => {
  const writer = new BinaryWriter().uint32(2)
  for (const [key, value] of [
    ['key', 'value'],
    [everyByte, 'x'],
  ])
    writer.bytes(Buffer.from(key as string, 'latin1')).bytes(Buffer.from(value as string, 'latin1'))
  const decoded = kvStateCodec.decode(writer.finish())
  t.same(contents(decoded), {
    entries: [
      ['key', 'value'],
      [everyByte, 'x'],
    ],
    deadlines: [],
    clockMs: 0,
  })
})

t.test('a truncated encoding is refused with where it ended, at every cut', async (t) => {
  const bytes = kvStateCodec.encode(
    KvState.of(
      [
        ['key', 'value'],
        ['h', new Map([['f', 'v']])],
      ],
      [['key', 5]],
      3,
    ),
  )
  for (let cut = 0; cut < bytes.length; cut++) {
    t.throws(() => kvStateCodec.decode(bytes.subarray(0, cut)), { code: 'ERR_TRUNCATED_RECORD' }, `cut at ${cut}`)
  }
})
