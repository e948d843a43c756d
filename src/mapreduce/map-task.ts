// Runs one map task on a worker: read the input file, call the app's map (unless the file is a
// record to skip), split the pairs into nReduce partitions by key hash, combine each if the app has
// a combiner, and write every partition — empty ones too — as mr-X-Y.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { callMap, combinePairs } from './app-calls.js'
import { CounterSet, FRAMEWORK_COUNTERS } from './counters.js'
import { encodeIntermediate, intermediateName, writeFileAtomically } from './job-files.js'
import { partitionOf } from './partition.js'
import type { Counters, KeyValue, MapReduceApp, TaskAssignment } from './types.js'

export async function runMapTask(app: MapReduceApp, assignment: Extract<TaskAssignment, { kind: 'map' }>, directory: string): Promise<Counters> {
  const counters = new CounterSet()
  const { inputFile, nReduce, task } = assignment
  const contents = await readFile(inputFile, 'utf8')
  counters.add(FRAMEWORK_COUNTERS.mapInputFiles, 1)
  let pairs: KeyValue[] = []
  if (assignment.skipRecords.includes(inputFile)) counters.add(FRAMEWORK_COUNTERS.skippedRecords, 1)
  else pairs = await callMap(app, inputFile, contents, counters)
  const partitions: KeyValue[][] = Array.from({ length: nReduce }, () => [])
  for (const pair of pairs) (partitions[partitionOf(pair.key, nReduce)] as KeyValue[]).push(pair)
  for (let reduce = 0; reduce < nReduce; reduce++) {
    const combined = await combinePairs(app, inputFile, partitions[reduce] as KeyValue[], counters)
    await writeFileAtomically(join(directory, intermediateName(task, reduce)), encodeIntermediate(combined))
  }
  return counters.snapshot()
}
