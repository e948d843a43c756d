// The sequential runner, the reference a distributed run is checked against (the lab's
// mrsequential): map every input in one process, group all pairs by key, reduce each key in sorted
// order, and write one output file. No combiner, no partitions, no skipping. Map is called on the
// inputs a distributed run maps, in the same order (a big file in the same pieces, small files one
// by one, as in the tasks they are packed into), so map sees the same contents either way; the
// next input is read while the app maps this one.

import { callMap, reduceGroups } from './app-calls.js'
import { CounterSet, FRAMEWORK_COUNTERS } from './counters.js'
import { DEFAULT_SPLIT_BYTES, mapInputs, readMapInputsAhead, startsFile } from './input-splits.js'
import { checkInputFiles, writeFileAtomically } from './job-files.js'
import { KeyGroups } from './key-groups.js'
import type { Counters, MapReduceApp } from './types.js'

/**
 * Runs a job in this process, the reference a distributed run is checked against (the lab's
 * mrsequential): maps every input file, groups all pairs by key, reduces each key in sorted order,
 * and writes one output file at `outputPath`, atomically. No combiner, no partitions, no skipping.
 * A file over `splitBytes` (default 8 MiB) is mapped in pieces of whole lines, and smaller files
 * one by one, as a distributed run maps them, in the same order. Resolves with the job's counters;
 * rejects with MapReduceError ERR_MR_INPUT_MISSING for an input that cannot be read, and with
 * AppRecordError when map or reduce fails.
 */
export async function runSequential(app: MapReduceApp, inputFiles: readonly string[], outputPath: string, splitBytes = DEFAULT_SPLIT_BYTES): Promise<Counters> {
  const inputs = mapInputs(inputFiles, await checkInputFiles(inputFiles), splitBytes)
  const counters = new CounterSet()
  const groups = new KeyGroups()
  for await (const { input, contents } of readMapInputsAhead(inputs)) {
    if (startsFile(input)) counters.add(FRAMEWORK_COUNTERS.mapInputFiles, 1)
    await callMap(app, input.inputFile, contents, counters, groups)
  }
  await writeFileAtomically(outputPath, await reduceGroups(app, groups, new Set(), counters))
  return counters.snapshot()
}
