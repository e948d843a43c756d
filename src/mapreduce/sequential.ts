// The sequential runner, the reference a distributed run is checked against (the lab's
// mrsequential): map every input in one process, group all pairs by key, reduce each key in sorted
// order, and write one output file. No combiner, no partitions, no skipping. A big file is mapped
// in the same pieces a distributed run maps it in, so map sees the same contents either way; the
// next piece is read while the app maps this one.

import { callMap, reduceGroups } from './app-calls.js'
import { CounterSet, FRAMEWORK_COUNTERS } from './counters.js'
import { DEFAULT_SPLIT_BYTES, mapInputs, readMapInput, startsFile } from './input-splits.js'
import { checkInputFiles, writeFileAtomically } from './job-files.js'
import { KeyGroups } from './key-groups.js'
import type { Counters, MapReduceApp } from './types.js'

/**
 * Runs a job in this process, the reference a distributed run is checked against (the lab's
 * mrsequential): maps every input file, groups all pairs by key, reduces each key in sorted order,
 * and writes one output file at `outputPath`, atomically. No combiner, no partitions, no skipping.
 * A file over `splitBytes` (default 8 MiB) is mapped in pieces of whole lines, as a distributed
 * run maps it. Resolves with the job's counters; rejects with MapReduceError ERR_MR_INPUT_MISSING
 * for an input that cannot be read, and with AppRecordError when map or reduce fails.
 */
export async function runSequential(app: MapReduceApp, inputFiles: readonly string[], outputPath: string, splitBytes = DEFAULT_SPLIT_BYTES): Promise<Counters> {
  const inputs = mapInputs(inputFiles, await checkInputFiles(inputFiles), splitBytes)
  const counters = new CounterSet()
  const groups = new KeyGroups()
  const read = (index: number): Promise<string> | null => {
    const input = inputs[index]
    if (!input) return null
    const reading = readMapInput(input)
    // Awaited on the next turn; a failure meanwhile must not count as unhandled.
    reading.catch(() => {})
    return reading
  }
  let next = read(0)
  for (const [index, input] of inputs.entries()) {
    const contents = await (next as Promise<string>)
    next = read(index + 1)
    if (startsFile(input)) counters.add(FRAMEWORK_COUNTERS.mapInputFiles, 1)
    await callMap(app, input.inputFile, contents, counters, groups)
  }
  await writeFileAtomically(outputPath, await reduceGroups(app, groups, new Set(), counters))
  return counters.snapshot()
}
