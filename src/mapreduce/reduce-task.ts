// Runs one reduce task on a worker: read partition Y of every map task's output (mr-0-Y …), group
// by key, call the app's reduce on each key in sorted order (skipping keys the coordinator marked
// bad), and write mr-out-Y. A few files are read ahead of the one being decoded: there is one per
// map task, and read one after another each would wait for the disk alone.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { reduceGroups } from './app-calls.js'
import { CounterSet } from './counters.js'
import { MapReduceError } from './errors.js'
import { decodeIntermediateInto } from './intermediate-codec.js'
import { intermediateName, outputName, writeFileAtomically } from './job-files.js'
import type { KeyGroups } from './key-groups.js'
import type { Counters, MapReduceApp, TaskAssignment } from './types.js'

/** Intermediate files read at once by a reduce task. */
const READ_AHEAD_FILES = 8

/** Runs the reduce task; `groups` is the worker's table, whose keys outlive a task. */
export async function runReduceTask(
  app: MapReduceApp,
  assignment: Extract<TaskAssignment, { kind: 'reduce' }>,
  directory: string,
  groups: KeyGroups,
): Promise<Counters> {
  const counters = new CounterSet()
  groups.nextRound()
  const reads: Promise<string>[] = []
  for (let map = 0; map < assignment.nMap; map++) {
    while (reads.length < Math.min(assignment.nMap, map + READ_AHEAD_FILES)) {
      const read = readIntermediate(directory, intermediateName(reads.length, assignment.task))
      // Awaited in turn below; until then a failure must not count as unhandled.
      read.catch(() => {})
      reads.push(read)
    }
    decodeIntermediateInto(await (reads[map] as Promise<string>), intermediateName(map, assignment.task), groups)
  }
  await writeFileAtomically(join(directory, outputName(assignment.task)), await reduceGroups(app, groups, new Set(assignment.skipRecords), counters))
  return counters.snapshot()
}

async function readIntermediate(directory: string, name: string): Promise<string> {
  try {
    return await readFile(join(directory, name), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    throw new MapReduceError(
      'ERR_MR_BAD_INTERMEDIATE',
      `intermediate file ${name} is missing from ${directory}: do the coordinator's workers share one filesystem?`,
    )
  }
}
