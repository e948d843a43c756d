// The word count's hot path on its own (fast-check properties; a failure prints its seed and the
// shrunk input): the word scanner finds exactly the words /\p{L}+/gu finds in any text, pairs
// grouped by key come back with every value in order whatever runs they form, groups of a new
// round start empty, and any pair written to an intermediate line reads back as itself.
import { deepStrictEqual, strictEqual } from 'node:assert'
import fc from 'fast-check'
import t from 'tap'
import { forEachWord } from '../src/mapreduce/apps/words.js'
import { decodeIntermediateInto, encodeLine } from '../src/mapreduce/intermediate-codec.js'
import { KeyGroups } from '../src/mapreduce/key-groups.js'

/** Text of letters from several scripts, digits, punctuation, surrogate pairs and lone surrogates. */
const text = fc.array(
  fc.oneof(fc.string(), fc.constantFrom('é', 'ß', '日本', '𝒜𝒷', '😀', '\ud800', '\udc00', 'Ab1', ' ', '\n', 'İı', 'ǅ'), fc.string({ unit: 'binary' })),
  { maxLength: 40 },
)

/** The pairs as groups: each key's values, in the order they were added. */
function grouped(pairs: ReadonlyArray<readonly [string, string]>): Map<string, string[]> {
  const expected = new Map<string, string[]>()
  for (const [key, value] of pairs) expected.set(key, [...(expected.get(key) ?? []), value])
  return expected
}

function contents(groups: KeyGroups): Map<string, string[]> {
  return new Map(groups.groups().map((group) => [group.key, group.values()]))
}

t.test('the word scanner finds the words /\\p{L}+/gu finds, in order, in any text', async (t) => {
  fc.assert(
    fc.property(text, (pieces) => {
      const joined = pieces.join('')
      const found: string[] = []
      forEachWord(joined, (word) => found.push(word))
      deepStrictEqual(found, joined.match(/\p{L}+/gu) ?? [], JSON.stringify(joined))
    }),
  )
  t.pass('fast-check found no text where they differ')
})

t.test('grouped pairs keep every value of a key in order, whether they repeat or not', async (t) => {
  const pairs = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'the', ''), fc.constantFrom('1', '1', '1', '2', 'doc')), { maxLength: 60 })
  fc.assert(
    fc.property(pairs, (added) => {
      const groups = new KeyGroups()
      for (const [key, value] of added) groups.add(key, value)
      deepStrictEqual(contents(groups), grouped(added))
      strictEqual(groups.pairCount, added.length)
    }),
  )
  t.pass('fast-check found no pairs that come back otherwise')
})

t.test('a new round starts empty, with the same keys found again, and the table forgets its keys past its bound', async (t) => {
  const groups = new KeyGroups(2)
  groups.add('a', '1')
  groups.add('b', '1')
  groups.add('a', '1')
  const [a] = groups.groups()
  groups.nextRound()
  t.same(contents(groups), new Map(), 'nothing in the new round')
  groups.add('b', 'x')
  groups.add('a', '2')
  t.same(
    contents(groups),
    new Map([
      ['b', ['x']],
      ['a', ['2']],
    ]),
    'only the new values, in the order their keys came this round',
  )
  t.equal(groups.groups()[1], a, 'key a found again, not added anew')
  groups.add('c', '3')
  groups.nextRound()
  groups.add('a', '4')
  t.not(groups.groups()[0], a, 'three keys were over the bound of two: the table started afresh')
  t.same(
    groups.sortedGroups().map((group) => group.key),
    ['a'],
  )
})

t.test('any pair written as an intermediate line reads back as itself', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), { maxLength: 30 }), (pairs) => {
      const text = pairs.map(([key, value]) => encodeLine(JSON.stringify(key), value)).join('')
      // Each line is the JSON array [key, value], as the files always held.
      for (const [key, value] of pairs) deepStrictEqual(JSON.parse(encodeLine(JSON.stringify(key), value)), [key, value])
      const groups = new KeyGroups()
      decodeIntermediateInto(text, 'mr-0-0', groups)
      deepStrictEqual(contents(groups), grouped(pairs))
    }),
  )
  t.pass('fast-check found no pair that reads back otherwise')
})

t.test('a malformed or truncated intermediate file is refused, naming the file', async (t) => {
  for (const text of ['["a","1"]\n["b","', '["a","1"]\n["b","2"', '["a\\","1"]\n', '["a","1","2"]\n', '{"a":"1"}\n', '["a",1]\n', '["a"1"]\n']) {
    t.throws(() => decodeIntermediateInto(text, 'mr-3-4', new KeyGroups()), { code: 'ERR_MR_BAD_INTERMEDIATE', message: /mr-3-4/ }, JSON.stringify(text))
  }
  const groups = new KeyGroups()
  decodeIntermediateInto('[ "a" , "1" ]\n\n["a","2"]', 'mr-0-0', groups)
  t.same(contents(groups), new Map([['a', ['1', '2']]]), 'other spellings of the same JSON, blank lines and a last line without a newline are read')
})
