// Runs one map task on a worker: read the input file (or its piece of a big one), call the app's
// map (unless the file is a record to skip), group its pairs by key, combine each key's values if the app has a combiner,
// split the keys into nReduce partitions by hash, and write every partition — empty ones too — as
// mr-X-Y.

import { join } from 'node:path'
import { callMap, combineGroups } from './app-calls.js'
import { CounterSet, FRAMEWORK_COUNTERS } from './counters.js'
import { readMapInput, startsFile } from './input-splits.js'
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
  const { inputFile, nReduce, task } = assignment
  const contents = await readMapInput(assignment)
  if (startsFile(assignment)) counters.add(FRAMEWORK_COUNTERS.mapInputFiles, 1)
  groups.nextRound()
  if (assignment.skipRecords.includes(inputFile)) counters.add(FRAMEWORK_COUNTERS.skippedRecords, 1)
  else await callMap(app, inputFile, contents, counters, groups)
  const partitions = new Array<string>(nReduce).fill('')
  await combineGroups(app, inputFile, groups, counters, (group, value) => {
    // A key's hash and JSON are kept with its group: the same words come back task after task.
    if (group.hash < 0) group.hash = ihash(group.key)
    group.json ??= JSON.stringify(group.key)
    partitions[group.hash % nReduce] += encodeLine(group.json, value)
  })
  await writeFilesAtomically(partitions.map((text, reduce) => ({ path: join(directory, intermediateName(task, reduce)), text })))
  return counters.snapshot()
}
