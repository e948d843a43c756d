// Keys go to reduce tasks by the lab's ihash: 32-bit FNV-1a over the key's UTF-8 bytes, masked to
// 31 bits. The expected values are FNV-1a's published vectors and values computed independently.
import t from 'tap'
import { ihash, partitionOf } from '../src/mapreduce/partition.js'

t.test('ihash is 32-bit FNV-1a of the UTF-8 bytes masked to 31 bits, for ASCII and non-ASCII keys alike', async (t) => {
  const expected: Array<[string, number]> = [
    ['', 0x011c9dc5],
    ['a', 0x640c292c],
    ['foobar', 0x3f9cf968],
    ['Holmes', 0x18024f63],
    ['café', 0x282b5049],
    ['Straße', 0x1dc32e38],
    ['日本', 0x1f26ee51],
  ]
  for (const [key, hash] of expected) t.equal(ihash(key), hash, JSON.stringify(key))
})

t.test('a key’s reduce task is its ihash mod nReduce', async (t) => {
  t.equal(partitionOf('Holmes', 10), 9)
  t.equal(partitionOf('日本', 10), 3)
  t.equal(partitionOf('anything', 1), 0)
})
