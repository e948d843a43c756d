// Which inputs each map task maps. Consecutive input files smaller than the split size are packed
// into one task, as Spark's file sources and Hadoop's CombineFileInputFormat pack them, so a task
// covers about as many bytes as a split; a larger file is split into pieces (input-splits.ts), a
// task each. With a task per file, 100 MB of 248 books ran 248 map tasks: each created, synced and
// renamed nReduce intermediate files, each wrote its combiner's output (every distinct word of one
// small book) for the reduces to read back, and the workers spent more time on files than on words.
// Map is still called once per file, in the order the files were given; only the task boundaries
// move, so an app sees what it saw with a task per file.

import { assert } from '../base/assert.js'
import { fileInputs } from './input-splits.js'
import type { MapInput } from './types.js'

/**
 * Packing never leaves a job with fewer map tasks than this (or than it has files): a small job
 * still spreads over the workers, and the MIT lab's job of 8 books stays 8 tasks, a map call each,
 * as its tests of map parallelism and crashes expect.
 */
export const MIN_MAP_TASKS = 16

/**
 * The map tasks' inputs, in order. A file over `splitBytes` is its pieces, a task each. The other
 * files are packed, in order, into tasks of about `targetBytes = totalBytes / T`, where T =
 * max(⌈totalBytes / splitBytes⌉, min(files, MIN_MAP_TASKS)): as many tasks as splits, but never
 * fewer than MIN_MAP_TASKS, nor than the files if there are fewer. A file joins the task being
 * filled if three things hold, and otherwise starts the next task:
 * - the task ends nearer targetBytes with the file than without it (bytes + size / 2 ≤ targetBytes),
 *   so tasks average about targetBytes, and T of them are made, rather than up to twice as many
 *   tasks that each stop short of the target by up to a file;
 * - the task stays within `splitBytes`, the most a task covers;
 * - the files after it make enough tasks, if each small one gets a task alone, for the job to have
 *   at least min(files, MIN_MAP_TASKS).
 * A big file also ends the task being filled, so a task's files are consecutive. Without sizes,
 * every file is a task of its own.
 */
export function packMapTasks(inputFiles: readonly string[], fileBytes: readonly number[] | undefined, splitBytes: number): MapInput[][] {
  if (!fileBytes) return inputFiles.map((inputFile) => [{ inputFile }])
  const totalBytes = fileBytes.reduce((sum, size) => sum + size, 0)
  const minTasks = Math.min(inputFiles.length, MIN_MAP_TASKS)
  const targetBytes = totalBytes / Math.max(Math.ceil(totalBytes / splitBytes), minTasks)
  const fileTasks = (size: number): number => (size > splitBytes ? Math.ceil(size / splitBytes) : 1)
  // The tasks the files not yet packed would make with a task per small file: what packing can still count on.
  let tasksLeftAlone = fileBytes.reduce((sum, size) => sum + fileTasks(size), 0)
  const tasks: MapInput[][] = []
  let filling: MapInput[] = []
  let fillingBytes = 0
  const closeFilling = (): void => {
    if (filling.length > 0) tasks.push(filling)
    filling = []
    fillingBytes = 0
  }
  for (const [index, inputFile] of inputFiles.entries()) {
    const size = fileBytes[index] ?? 0
    tasksLeftAlone -= fileTasks(size)
    if (size > splitBytes) {
      closeFilling()
      for (const piece of fileInputs(inputFile, size, splitBytes)) tasks.push([piece])
      continue
    }
    // Were this file to join, the tasks so far (the one being filled among them) and those of the
    // files after it, each small one alone, must still reach minTasks.
    const enoughTasksLeft = tasks.length + 1 + tasksLeftAlone >= minTasks
    const joins = fillingBytes + size / 2 <= targetBytes && fillingBytes + size <= splitBytes && enoughTasksLeft
    if (filling.length > 0 && !joins) closeFilling()
    filling.push({ inputFile })
    fillingBytes += size
  }
  closeFilling()
  assert(tasks.length >= minTasks, `packing made ${tasks.length} map tasks of ${inputFiles.length} files, fewer than ${minTasks}`)
  return tasks
}
