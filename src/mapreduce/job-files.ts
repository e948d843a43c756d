// The files of a job, named as in the MIT lab: intermediate `mr-X-Y` (map task X's pairs for
// reduce task Y) and outputs `mr-out-Y`. Every file is written under a temporary name, synced and
// renamed into place, so a crash at any moment leaves either the whole file or none of it.

import { randomBytes } from 'node:crypto'
import { open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { MapReduceError } from './errors.js'
import type { KeyValue } from './types.js'

export function intermediateName(mapTask: number, reduceTask: number): string {
  return `mr-${mapTask}-${reduceTask}`
}

export function outputName(reduceTask: number): string {
  return `mr-out-${reduceTask}`
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

/** One JSON array [key, value] per line: any string survives, and the file stays readable. */
export function encodeIntermediate(pairs: readonly KeyValue[]): string {
  let text = ''
  for (const { key, value } of pairs) text += `${JSON.stringify([key, value])}\n`
  return text
}

/** Adds the pairs of one intermediate file to `groups` (key → values). */
export function decodeIntermediateInto(text: string, fileName: string, groups: Map<string, string[]>): number {
  let pairs: unknown
  try {
    // One parse of the whole file as an array is far faster than one parse per line.
    pairs = JSON.parse(
      `[${text
        .trimEnd()
        .split('\n')
        .filter((line) => line !== '')
        .join(',')}]`,
    )
  } catch (error) {
    throw new MapReduceError('ERR_MR_BAD_INTERMEDIATE', `intermediate file ${fileName} is malformed: ${(error as Error).message}`)
  }
  let count = 0
  for (const pair of pairs as unknown[]) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new MapReduceError('ERR_MR_BAD_INTERMEDIATE', `intermediate file ${fileName} holds ${JSON.stringify(pair)}, not a [key, value] pair`)
    }
    const values = groups.get(pair[0])
    if (values) values.push(pair[1])
    else groups.set(pair[0], [pair[1]])
    count++
  }
  return count
}

/** Throws ERR_MR_INPUT_MISSING naming the first input that is not a readable file. */
export async function checkInputFiles(files: readonly string[]): Promise<void> {
  for (const file of files) {
    let isFile: boolean
    try {
      isFile = (await stat(file)).isFile()
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message
      throw new MapReduceError('ERR_MR_INPUT_MISSING', `input file ${file} ${reason}`)
    }
    if (!isFile) throw new MapReduceError('ERR_MR_INPUT_MISSING', `input ${file} is not a file`)
  }
}

/** Deletes the intermediate files of a finished job (missing ones are fine: a map may have been re-run elsewhere). */
export async function removeIntermediateFiles(directory: string, nMap: number, nReduce: number): Promise<void> {
  for (let map = 0; map < nMap; map++) {
    await Promise.all(Array.from({ length: nReduce }, (_, reduce) => rm(join(directory, intermediateName(map, reduce)), { force: true })))
  }
}
