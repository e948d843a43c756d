// The sequential runner, the reference a distributed run is checked against (the lab's
// mrsequential): map every input in one process, group all pairs by key, reduce each key in sorted
// order, and write one output file. No combiner, no partitions, no skipping.

import { readFile } from 'node:fs/promises'
import { callMap, reduceGroups } from './app-calls.js'
import { CounterSet, FRAMEWORK_COUNTERS } from './counters.js'
import { checkInputFiles, writeFileAtomically } from './job-files.js'
import { KeyGroups } from './key-groups.js'
import type { Counters, MapReduceApp } from './types.js'

/**
 * Runs a job in this process, the reference a distributed run is checked against (the lab's
 * mrsequential): maps every input file, groups all pairs by key, reduces each key in sorted order,
 * and writes one output file at `outputPath`, atomically. No combiner, no partitions, no skipping.
 * Resolves with the job's counters; rejects with MapReduceError ERR_MR_INPUT_MISSING for an input
 * that cannot be read, and with AppRecordError when map or reduce fails.
 */
export async function runSequential(app: MapReduceApp, inputFiles: readonly string[], outputPath: string): Promise<Counters> {
  await checkInputFiles(inputFiles)
  const counters = new CounterSet()
  const groups = new KeyGroups()
  for (const inputFile of inputFiles) {
    const contents = await readFile(inputFile, 'utf8')
    counters.add(FRAMEWORK_COUNTERS.mapInputFiles, 1)
    await callMap(app, inputFile, contents, counters, groups)
  }
  await writeFileAtomically(outputPath, await reduceGroups(app, groups, new Set(), counters))
  return counters.snapshot()
}
