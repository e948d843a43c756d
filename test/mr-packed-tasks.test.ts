// A map task of several small files packed together, on the worker's side: it crosses the wire in
// input_files (one input still in the fields an older coordinator sends), its files are read and
// mapped one by one in order, a map call each, into one set of intermediate files, a bad file is
// skipped alone, and a combiner that fails on a key is charged to the file that brought the key.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import * as wc from '../src/mapreduce/apps/wc.js'
import { AppRecordError } from '../src/mapreduce/errors.js'
import { KeyGroups } from '../src/mapreduce/key-groups.js'
import { runMapTask } from '../src/mapreduce/map-task.js'
import { decodeAssignment, encodeAssignment, requestTaskMethod } from '../src/mapreduce/protocol.js'
import type { Assignment, MapReduceApp, TaskAssignment } from '../src/mapreduce/types.js'

type MapAssignment = Extract<TaskAssignment, { kind: 'map' }>

/** Three small files in a fresh directory: the words of each say which file they are from. */
function threeFiles(t: Test): { directory: string; files: string[] } {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-mr-packed-'))
  t.teardown(() => rmSync(directory, { recursive: true, force: true }))
  const texts = { 'one.txt': 'alpha shared\n', 'two.txt': 'beta shared poison\n', 'three.txt': 'gamma poison\n' }
  for (const [name, text] of Object.entries(texts)) writeFileSync(join(directory, name), text)
  return { directory, files: Object.keys(texts).map((name) => join(directory, name)) }
}

function packedTask(files: readonly string[], skipRecords: readonly string[] = []): MapAssignment {
  return { kind: 'map', task: 5, attempt: 1, inputs: files.map((inputFile) => ({ inputFile })), nReduce: 2, skipRecords }
}

/** Every pair of the task's intermediate files, sorted. */
function intermediatePairs(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => /^mr-\d+-\d+$/.test(name))
    .flatMap((name) => readFileSync(join(directory, name), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .sort()
}

/** Through the protocol's codec, as a worker receives it. */
function overTheWire(assignment: Assignment): Assignment {
  return decodeAssignment(requestTaskMethod.reply.decode(requestTaskMethod.reply.encode(encodeAssignment(assignment))))
}

t.test('a packed task crosses the wire with its files in order; one input still travels in the fields older workers read', async (t) => {
  const packed = packedTask(['a.txt', 'b.txt', 'c.txt'], ['b.txt'])
  t.same(overTheWire(packed), packed)
  t.match(encodeAssignment(packed), { inputFile: '', inputFiles: ['a.txt', 'b.txt', 'c.txt'] }, 'no input_file for a worker that predates packing to map alone')
  const piece: MapAssignment = { ...packed, inputs: [{ inputFile: 'big.txt', split: { startByte: 10, endByte: 20 } }], skipRecords: [] }
  t.same(overTheWire(piece), piece)
  t.match(encodeAssignment(piece), { inputFile: 'big.txt', hasSplit: true, splitStartByte: 10, splitEndByte: 20, inputFiles: [] })
  const fromOlderCoordinator = { ...encodeAssignment(piece), inputFiles: [] as string[] }
  t.same(decodeAssignment(fromOlderCoordinator), piece, 'a message without input_files is the one input in input_file')
})

t.test('each file of a packed task is mapped once, in order, with its own name and contents, into one set of nReduce files', async (t) => {
  const { directory, files } = threeFiles(t)
  const calls: string[] = []
  const app: MapReduceApp = {
    map: (filename, contents, context) => {
      calls.push(`${filename}: ${contents}`)
      wc.map(filename, contents, context)
    },
    reduce: wc.reduce,
    combine: wc.combine,
  }
  const counters = await runMapTask(app, packedTask(files), directory, new KeyGroups())
  t.same(
    calls,
    files.map((file) => `${file}: ${readFileSync(file, 'utf8')}`),
  )
  t.same(
    readdirSync(directory)
      .filter((name) => name.startsWith('mr-'))
      .sort(),
    ['mr-5-0', 'mr-5-1'],
  )
  t.same(intermediatePairs(directory), ['["alpha","1"]', '["beta","1"]', '["gamma","1"]', '["poison","2"]', '["shared","2"]'], 'combined across the files')
  t.match(counters.framework, { 'map input files': 3, 'map output records': 7, 'combine output records': 5 })
})

t.test('a bad file inside a packed task fails the task naming that file; skipped, only its map call is left out', async (t) => {
  const { directory, files } = threeFiles(t)
  const [, two] = files as [string, string, string]
  const app: MapReduceApp = {
    map: (filename, contents, context) => {
      if (filename === two) throw new Error('cannot parse')
      wc.map(filename, contents, context)
    },
    reduce: wc.reduce,
  }
  await t.rejects(runMapTask(app, packedTask(files), directory, new KeyGroups()), new AppRecordError(two, new Error('cannot parse'), 'map'))
  const counters = await runMapTask(app, packedTask(files, [two]), directory, new KeyGroups())
  t.same(intermediatePairs(directory), ['["alpha","1"]', '["gamma","1"]', '["poison","1"]', '["shared","1"]'], 'the words of the other two files')
  t.match(counters.framework, { 'map input files': 3, 'skipped records': 1 })
})

t.test('a combiner that fails on a key is charged to the first file that emitted it, then to the next once that is skipped', async (t) => {
  const { directory, files } = threeFiles(t)
  const [, two, three] = files as [string, string, string]
  const app: MapReduceApp = {
    map: wc.map,
    reduce: wc.reduce,
    combine: (key, values) => {
      if (key === 'poison') throw new RangeError('too toxic to combine')
      return wc.combine(key, values)
    },
  }
  // One table for all attempts, as on a worker: a key's first file is that of its round.
  const groups = new KeyGroups()
  const badRecord = (skipRecords: readonly string[]): Promise<unknown> =>
    runMapTask(app, packedTask(files, skipRecords), directory, groups).then(
      () => 'no failure',
      (error: unknown) => (error instanceof AppRecordError ? error.record : error),
    )
  t.equal(await badRecord([]), two)
  t.equal(await badRecord([two]), three)
  t.equal(await badRecord([two, three]), 'no failure')
  t.same(intermediatePairs(directory), ['["alpha","1"]', '["shared","1"]'])
})
