// The entry encoder writes keys and values into one shared buffer with byte stores; these tests
// pin its output to the on-disk format spelled out field by field, so the fast path cannot drift.

import { crc32 } from 'node:zlib'
import t from 'tap'
import type { BatchOp } from '../src/log/group-commit.js'
import { entryKey } from '../src/log/keys.js'
import { decodeEntryValue, encodeEntryPuts, storedEntryBytes } from '../src/log/records.js'
import type { LogEntry } from '../src/log/types.js'

/** The stored value of `entry`, built the slow, obvious way: CRC-32 over key ++ body, then body. */
function expectedValue(entry: LogEntry): Uint8Array {
  const key = entryKey(entry.index)
  const body = new Uint8Array(9 + entry.data.length)
  const view = new DataView(body.buffer)
  view.setBigUint64(0, BigInt(entry.term))
  body[8] = entry.type
  body.set(entry.data, 9)
  const value = new Uint8Array(4 + body.length)
  new DataView(value.buffer).setUint32(0, crc32(Buffer.concat([key, body])))
  value.set(body, 4)
  return value
}

const entries: LogEntry[] = [
  { index: 2 ** 32 + 7, term: 1, type: 0, data: new Uint8Array(0) },
  { index: 2 ** 32 + 8, term: 2 ** 40 + 3, type: 255, data: Uint8Array.of(1, 2, 3) },
  { index: 2 ** 32 + 9, term: Number.MAX_SAFE_INTEGER, type: 7, data: new Uint8Array(300).fill(0xa5) },
]

void t.test('encoded entries match the on-disk format byte for byte and decode back', async (t) => {
  const ops: BatchOp[] = []
  const valueBytes = encodeEntryPuts(entries, ops)
  t.equal(ops.length, entries.length)
  let expectedValueBytes = 0
  entries.forEach((entry, offset) => {
    const op = ops[offset]
    if (op?.type !== 'put') return t.fail(`op ${offset} is not a put`)
    const value = expectedValue(entry)
    expectedValueBytes += value.length
    t.same(Buffer.from(op.key), Buffer.from(entryKey(entry.index)), `key of entry ${entry.index}`)
    t.same(Buffer.from(op.value), Buffer.from(value), `value of entry ${entry.index}`)
    t.equal(storedEntryBytes(entry), op.key.length + op.value.length, `stored size of entry ${entry.index}`)
    t.same(decodeEntryValue('test', op.key, entry.index, op.value), entry, `entry ${entry.index} decodes back`)
  })
  t.equal(valueBytes, expectedValueBytes, "the returned byte count is the values' total")
})

void t.test('an index or term that is not a non-negative safe integer is refused', async (t) => {
  for (const bad of [-1, 1.5, 2 ** 53]) {
    t.throws(() => encodeEntryPuts([{ index: bad, term: 1, type: 0, data: new Uint8Array(0) }], []), { code: 'ERR_INVARIANT' }, `index ${bad}`)
    t.throws(() => encodeEntryPuts([{ index: 1, term: bad, type: 0, data: new Uint8Array(0) }], []), { code: 'ERR_INVARIANT' }, `term ${bad}`)
  }
})
