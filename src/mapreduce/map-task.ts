// Runs one map task on a worker: read its inputs (one piece of a big file, or one or more small
// files packed together) one after another, calling the app's map on each (unless it is a file to
// skip) while the next is read, group all their pairs by key, combine each key's values if the app
// has a combiner, split the keys into nReduce partitions by hash, and write every partition —
// empty ones too — as mr-X-Y: one set of files per task, however many files it maps.

import { join } from 'node:path'
import { callMap, combineGroups } from './app-calls.js'
import { CounterSet, FRAMEWORK_COUNTERS } from './counters.js'
import { readMapInputsAhead, startsFile } from './input-splits.js'
import { encodeLine } from './intermediate-codec.js'
import { intermediateName, writeFilesAtomically } from './job-files.js'
import type { KeyGroups } from './key-groups.js'
import { ihash } from './partition.js'
import type { Counters, MapReduceApp, TaskAssignment } from './types.js'

/** Runs the map task; `groups` is the worker's table, whose keys (and their hashes) outlive a task. */
export async function runMapTask(
  app: MapReduceApp,
  assignment: Extract<TaskAssignment, { kind: 'map' }>,
  directory: string,
  groups: KeyGroups,
): Promise<Counters> {
  const counters = new CounterSet()
  const { inputs, nReduce, task } = assignment
  groups.nextRound()
  for await (const { index, input, contents } of readMapInputsAhead(inputs)) {
    if (startsFile(input)) counters.add(FRAMEWORK_COUNTERS.mapInputFiles, 1)
    groups.source = index
    if (assignment.skipRecords.includes(input.inputFile)) counters.add(FRAMEWORK_COUNTERS.skippedRecords, 1)
    else await callMap(app, input.inputFile, contents, counters, groups)
  }
  const partitions = new Array<string>(nReduce).fill('')
  const inputFiles = inputs.map((input) => input.inputFile)
  await combineGroups(app, inputFiles, groups, counters, (group, value) => {
    // A key's hash and JSON are kept with its group: the same words come back task after task.
    if (group.hash < 0) group.hash = ihash(group.key)
    group.json ??= JSON.stringify(group.key)
    partitions[group.hash % nReduce] += encodeLine(group.json, value)
  })
  await writeFilesAtomically(partitions.map((text, reduce) => ({ path: join(directory, intermediateName(task, reduce)), text })))
  return counters.snapshot()
}
