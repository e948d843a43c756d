// The files of a job, named as in the MIT lab: intermediate `mr-X-Y` (map task X's pairs for
// reduce task Y) and outputs `mr-out-Y`. Every file is written under a temporary name, synced and
// renamed into place, so a crash at any moment leaves either the whole file or none of it.

import { randomBytes } from 'node:crypto'
import type { Stats } from 'node:fs'
import { open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { MapReduceError } from './errors.js'

export function intermediateName(mapTask: number, reduceTask: number): string {
  return `mr-${mapTask}-${reduceTask}`
}

export function outputName(reduceTask: number): string {
  return `mr-out-${reduceTask}`
}

/** A file to write atomically: a map task writes one per partition. */
export interface FileToWrite {
  readonly path: string
  readonly text: string
}

/** Writes the files side by side: each is synced before its rename, and syncs waiting together cost little more than one. */
export async function writeFilesAtomically(files: readonly FileToWrite[]): Promise<void> {
  await Promise.all(files.map((file) => writeFileAtomically(file.path, file.text)))
}

/**
 * Writes `text` to `path` atomically. The temporary name is hidden and does not start with "mr-",
 * so a glob for `mr-out*` never sees a half-written file.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.tmp-${basename(path)}-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const handle = await open(temporary, 'w')
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}

/** The input files' sizes in bytes; throws ERR_MR_INPUT_MISSING naming the first input that is not a readable file. */
export async function checkInputFiles(files: readonly string[]): Promise<number[]> {
  const sizes: number[] = []
  for (const file of files) {
    let stats: Stats
    try {
      stats = await stat(file)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message
      throw new MapReduceError('ERR_MR_INPUT_MISSING', `input file ${file} ${reason}`)
    }
    if (!stats.isFile()) throw new MapReduceError('ERR_MR_INPUT_MISSING', `input ${file} is not a file`)
    sizes.push(stats.size)
  }
  return sizes
}

/** Files deleted at once by removeIntermediateFiles: a job of a few GB, or of small splits, has thousands. */
const PARALLEL_REMOVES = 64

/** Deletes the intermediate files of a finished job (missing ones are fine: a map may have been re-run elsewhere). */
export async function removeIntermediateFiles(directory: string, nMap: number, nReduce: number): Promise<void> {
  let next = 0
  const removeNext = async (): Promise<void> => {
    for (let file = next++; file < nMap * nReduce; file = next++) {
      await rm(join(directory, intermediateName(Math.floor(file / nReduce), file % nReduce)), { force: true })
    }
  }
  await Promise.all(Array.from({ length: PARALLEL_REMOVES }, removeNext))
}
