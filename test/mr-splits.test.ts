// Input splits and packing (fast-check properties; a failure prints its seed and the shrunk
// input): a file over the split size becomes pieces of about equal size whose lines, read back, are
// the file's lines, each exactly once, whatever the file's lines look like (long, empty,
// multi-byte, no final newline); smaller files stay whole and are packed, in order, into map tasks
// of about a split, never fewer than 16 tasks (or a task per file); the scheduler hands them out.
import { deepStrictEqual, ok } from 'node:assert'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import t from 'tap'
import { MIN_MAP_TASKS, packMapTasks } from '../src/mapreduce/input-packing.js'
import { mapInputs, readMapInput } from '../src/mapreduce/input-splits.js'
import { Scheduler } from '../src/mapreduce/scheduler.js'

const MIB = 1024 * 1024
const BOOKS_DIRECTORY = fileURLToPath(new URL('../../fixtures/gutenberg/', import.meta.url))
/** The lab's eight books and their sizes, as the coordinator sees them. */
const BOOKS = readdirSync(BOOKS_DIRECTORY)
  .filter((name) => name.endsWith('.txt'))
  .sort()
const BOOK_BYTES = BOOKS.map((book) => statSync(join(BOOKS_DIRECTORY, book)).size)

/** Bytes of each task: the sizes of its files, looked up by name in `files`. */
function taskBytes(tasks: readonly (readonly { inputFile: string }[])[], files: readonly string[], sizes: readonly number[]): number[] {
  const sizeOf = new Map(files.map((file, index) => [file, sizes[index] ?? 0]))
  return tasks.map((task) => task.reduce((sum, input) => sum + (sizeOf.get(input.inputFile) ?? 0), 0))
}

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

t.test('the lab’s eight books stay eight map tasks, a book each', async (t) => {
  t.same(
    packMapTasks(BOOKS, BOOK_BYTES, 8 * MIB),
    BOOKS.map((inputFile) => [{ inputFile }]),
  )
})

t.test('248 books of about 400 KB (100 MB) become 16 map tasks of about 6.4 MB, in order, each book once', async (t) => {
  const files = Array.from({ length: 31 }, (_, copy) => BOOKS.map((book) => `${copy}-${book}`)).flat()
  const sizes = Array.from({ length: 31 }, () => BOOK_BYTES).flat()
  const tasks = packMapTasks(files, sizes, 8 * MIB)
  t.equal(tasks.length, MIN_MAP_TASKS, `${tasks.length} tasks of ${files.length} files`)
  t.same(
    tasks.flat().map((input) => input.inputFile),
    files,
    'every file once, in the order given',
  )
  const bytes = taskBytes(tasks, files, sizes)
  t.ok(
    bytes.every((size) => size <= 8 * MIB),
    `no task over the split size: ${bytes.map((size) => (size / 1e6).toFixed(1)).join(' ')} MB`,
  )
  t.ok(
    bytes.slice(0, -1).every((size) => Math.abs(size - 6.4e6) < 0.5e6),
    'all but the last about 6.4 MB',
  )
})

t.test('big files are split as before, small ones around them packed, and a big file ends the task being filled', async (t) => {
  // 64 KB in all, split 16 KB: T = max(4, min(7 files, 16)) = 7 tasks of about 9.1 KB. The big
  // file is 3 of them; e and f would fit one task, but the job would then have 6.
  const files = ['a', 'b', 'big', 'c', 'd', 'e', 'f']
  const sizes = [3000, 4000, 40_000, 5000, 4000, 4000, 4000]
  const tasks = packMapTasks(files, sizes, 16_000)
  t.same(tasks, [
    [{ inputFile: 'a' }, { inputFile: 'b' }],
    [{ inputFile: 'big', split: { startByte: 0, endByte: 13_333 } }],
    [{ inputFile: 'big', split: { startByte: 13_333, endByte: 26_666 } }],
    [{ inputFile: 'big', split: { startByte: 26_666, endByte: 40_000 } }],
    [{ inputFile: 'c' }, { inputFile: 'd' }],
    [{ inputFile: 'e' }],
    [{ inputFile: 'f' }],
  ])
  t.same(tasks.flat(), mapInputs(files, sizes, 16_000), 'the same inputs in the same order as mr seq maps them')
})

t.test('empty files are mapped once each, packed like any other; a job of empty files keeps its minimum of tasks', async (t) => {
  const files = Array.from({ length: 20 }, (_, index) => `empty-${index}`)
  const allEmpty = packMapTasks(files, new Array<number>(20).fill(0), 8 * MIB)
  t.equal(allEmpty.length, MIN_MAP_TASKS)
  t.same(
    allEmpty.flat().map((input) => input.inputFile),
    files,
  )
  const mixed = packMapTasks(['x', 'empty', 'y'], [100, 0, 100], 8 * MIB)
  t.same(mixed.flat(), [{ inputFile: 'x' }, { inputFile: 'empty' }, { inputFile: 'y' }])
})

t.test('without sizes every file is a map task of its own', async (t) => {
  t.same(packMapTasks(['a', 'b', 'c'], undefined, 8 * MIB), [[{ inputFile: 'a' }], [{ inputFile: 'b' }], [{ inputFile: 'c' }]])
})

t.test('any files and sizes: every input mapped once in order, at least min(files, 16) tasks, no packed task over the split size', async (t) => {
  const size = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 5000 }))
  fc.assert(
    fc.property(fc.array(size, { minLength: 1, maxLength: 80 }), fc.integer({ min: 1, max: 2000 }), (sizes, splitBytes) => {
      const files = sizes.map((_, index) => `file-${index}`)
      const tasks = packMapTasks(files, sizes, splitBytes)
      deepStrictEqual(tasks.flat(), mapInputs(files, sizes, splitBytes), 'the inputs mr seq maps, in its order')
      ok(tasks.length >= Math.min(files.length, MIN_MAP_TASKS), `${tasks.length} tasks of ${files.length} files`)
      for (const [index, task] of tasks.entries()) {
        if (task.length === 1) continue
        ok(
          task.every((input) => input.split === undefined),
          'only whole files are packed',
        )
        ok((taskBytes([task], files, sizes)[0] ?? 0) <= splitBytes, `packed task ${index} is within the split size`)
      }
    }),
  )
  t.pass('fast-check found no job whose tasks break the rules')
})
