// Input splits (fast-check properties; a failure prints its seed and the shrunk input): a file over
// the split size becomes pieces of about equal size whose lines, read back, are the file's lines,
// each exactly once, whatever the file's lines look like (long, empty, multi-byte, no final
// newline); smaller files stay whole, and the scheduler hands the pieces out as map tasks.
import { deepStrictEqual, ok } from 'node:assert'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { mapInputs, readMapInput } from '../src/mapreduce/input-splits.js'
import { Scheduler } from '../src/mapreduce/scheduler.js'

t.test('the pieces of a big file hold its lines, each once and whole, in order', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-mr-splits-'))
  t.teardown(() => rmSync(directory, { recursive: true, force: true }))
  const file = join(directory, 'input.txt')
  const line = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('', 'é日本😀', 'x'.repeat(200)))
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 64 }), async (lines, finalNewline, splitBytes) => {
      const text = lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '')
      writeFileSync(file, text)
      const inputs = mapInputs([file], [Buffer.byteLength(text)], splitBytes)
      const pieces = await Promise.all(inputs.map((input) => readMapInput(input)))
      deepStrictEqual(pieces.join(''), text, 'the pieces, end to end, are the file')
      const filled = pieces.filter((piece) => piece !== '')
      for (const piece of filled.slice(0, -1)) ok(piece.endsWith('\n'), 'every piece but the one holding the last line ends a line')
      if (Buffer.byteLength(text) <= splitBytes) deepStrictEqual(inputs, [{ inputFile: file }], 'a file that fits is one whole input')
      else ok(inputs.length === Math.ceil(Buffer.byteLength(text) / splitBytes), 'a bigger file is ⌈size / split⌉ pieces')
    }),
  )
  t.pass('fast-check found no file whose pieces differ from it')
})

t.test('the scheduler hands out a map task per piece of a big file, and one per small file', async (t) => {
  const scheduler = new Scheduler({ inputFiles: ['big.txt', 'small.txt'], inputBytes: [250, 90], splitBytes: 100, nReduce: 1 })
  const assignments = ['w1', 'w2', 'w3', 'w4', 'w5'].map((worker) => scheduler.request(worker, 0))
  t.same(assignments, [
    { kind: 'map', task: 0, attempt: 1, inputs: [{ inputFile: 'big.txt', split: { startByte: 0, endByte: 83 } }], nReduce: 1, skipRecords: [] },
    { kind: 'map', task: 1, attempt: 1, inputs: [{ inputFile: 'big.txt', split: { startByte: 83, endByte: 166 } }], nReduce: 1, skipRecords: [] },
    { kind: 'map', task: 2, attempt: 1, inputs: [{ inputFile: 'big.txt', split: { startByte: 166, endByte: 250 } }], nReduce: 1, skipRecords: [] },
    { kind: 'map', task: 3, attempt: 1, inputs: [{ inputFile: 'small.txt' }], nReduce: 1, skipRecords: [] },
    { kind: 'wait' },
  ])
  t.equal(scheduler.status().map.total, 4)
  t.throws(() => new Scheduler({ inputFiles: ['a'], inputBytes: [1, 2], nReduce: 1 }), { code: 'ERR_MR_BAD_OPTION' })
  t.throws(() => new Scheduler({ inputFiles: ['a'], splitBytes: 0, nReduce: 1 }), { code: 'ERR_MR_BAD_OPTION' })
})
