// The KV state's snapshot encoding: exact-size, byte-transparent, and refusing truncated input.
import t from 'tap'
import { type KvState, kvStateCodec } from '../src/kv/kv.js'

const everyByte = String.fromCharCode(...Array.from({ length: 256 }, (_, byte) => byte))

function sampleState(): KvState {
  return new Map([
    ['', 'empty key'],
    ['empty value', ''],
    [everyByte, everyByte.split('').reverse().join('')],
    ['k'.repeat(70_000), 'v'.repeat(100_000)],
  ])
}

t.test('a state round-trips byte for byte, in insertion order', async (t) => {
  const state = sampleState()
  const decoded = kvStateCodec.decode(kvStateCodec.encode(state))
  t.same([...decoded], [...state])
})

t.test('the encoding is a count and length-prefixed keys and values, nothing more', async (t) => {
  const state = sampleState()
  let expected = 4
  for (const [key, value] of state) expected += 8 + key.length + value.length
  const bytes = kvStateCodec.encode(state)
  t.equal(bytes.length, expected)
  t.equal(Buffer.from(bytes).readUInt32BE(0), state.size)
  t.equal(kvStateCodec.encode(new Map()).length, 4)
  t.equal(kvStateCodec.decode(kvStateCodec.encode(new Map())).size, 0)
})

t.test('a truncated encoding is refused with where it ended, at every cut', async (t) => {
  const bytes = kvStateCodec.encode(
    new Map([
      ['key', 'value'],
      ['other', 'x'],
    ]),
  )
  for (let cut = 0; cut < bytes.length; cut++) {
    t.throws(() => kvStateCodec.decode(bytes.subarray(0, cut)), { code: 'ERR_TRUNCATED_RECORD' }, `cut at ${cut}`)
  }
})
