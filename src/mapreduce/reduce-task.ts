// Runs one reduce task on a worker: read partition Y of every map task's output (mr-0-Y …), group
// by key, call the app's reduce on each key in sorted order (skipping keys the coordinator marked
// bad), and write mr-out-Y.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { reduceGroups } from './app-calls.js'
import { CounterSet } from './counters.js'
import { MapReduceError } from './errors.js'
import { decodeIntermediateInto, intermediateName, outputName, writeFileAtomically } from './job-files.js'
import type { Counters, MapReduceApp, TaskAssignment } from './types.js'

export async function runReduceTask(app: MapReduceApp, assignment: Extract<TaskAssignment, { kind: 'reduce' }>, directory: string): Promise<Counters> {
  const counters = new CounterSet()
  const groups = new Map<string, string[]>()
  for (let map = 0; map < assignment.nMap; map++) {
    const name = intermediateName(map, assignment.task)
    let text: string
    try {
      text = await readFile(join(directory, name), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      throw new MapReduceError(
        'ERR_MR_BAD_INTERMEDIATE',
        `intermediate file ${name} is missing from ${directory}: do the coordinator's workers share one filesystem?`,
      )
    }
    decodeIntermediateInto(text, name, groups)
  }
  const output = await reduceGroups(app, groups, new Set(assignment.skipRecords), counters)
  await writeFileAtomically(join(directory, outputName(assignment.task)), output)
  return counters.snapshot()
}
