// Input splits, as the paper's 16-64 MB pieces and Hadoop's splits: a file larger than the split
// size is mapped in pieces of about equal size, each a map task, so two workers share one big file
// instead of one worker mapping it alone (and no piece is held whole in memory). A piece is the
// lines that start in its byte range: it begins after the first newline at or past its start
// (unless that is the file's start) and ends with the newline that ends the line holding its last
// byte. Every line is mapped once, and a newline never falls inside a UTF-8 character, so each
// piece decodes on its own. (Files smaller than the split size are packed into map tasks
// together: input-packing.ts.)

import { isAscii } from 'node:buffer'
import { type FileHandle, open, readFile } from 'node:fs/promises'
import type { ByteRange, MapInput } from './types.js'

/** A map task covers about this many bytes: a larger file is split, smaller ones are packed together. 8 MiB. */
export const DEFAULT_SPLIT_BYTES = 8 * 1024 * 1024
/** Read past a piece's end this much at a time while looking for the end of its last line. */
const LINE_END_READ_BYTES = 64 * 1024
const NEWLINE = 0x0a

/**
 * Every map call's input, in order: each file whole, or, if its size in `fileBytes` is over
 * `splitBytes`, in ⌈size / splitBytes⌉ pieces of about equal size. Without sizes, files are whole.
 */
export function mapInputs(inputFiles: readonly string[], fileBytes: readonly number[] | undefined, splitBytes: number): MapInput[] {
  return inputFiles.flatMap((inputFile, index) => fileInputs(inputFile, fileBytes?.[index] ?? 0, splitBytes))
}

/** One file's inputs: the file whole if it is at most `splitBytes`, else its pieces. */
export function fileInputs(inputFile: string, size: number, splitBytes: number): MapInput[] {
  if (size <= splitBytes) return [{ inputFile }]
  const pieces = Math.ceil(size / splitBytes)
  return Array.from({ length: pieces }, (_, piece) => ({
    inputFile,
    split: { startByte: Math.floor((piece * size) / pieces), endByte: Math.floor(((piece + 1) * size) / pieces) },
  }))
}

/** True for a whole file or a file's first piece: the input that counts the file as read. */
export function startsFile(input: MapInput): boolean {
  return !input.split || input.split.startByte === 0
}

/** The text of `input`: the whole file, or the lines that start in its split (see the top of this file). */
export async function readMapInput(input: MapInput): Promise<string> {
  return decodeUtf8(input.split ? await readSplit(input.inputFile, input.split) : await readFile(input.inputFile))
}

/**
 * The text of each input, in order, the next one read while the caller maps this one: map and the
 * disk take turns otherwise, and a task of packed small files reads many.
 */
export async function* readMapInputsAhead(inputs: readonly MapInput[]): AsyncGenerator<{ index: number; input: MapInput; contents: string }> {
  const read = (index: number): Promise<string> | null => {
    const input = inputs[index]
    if (!input) return null
    const reading = readMapInput(input)
    // Awaited on the next turn, or never if the caller stops early: a failure meanwhile must not count as unhandled.
    reading.catch(() => {})
    return reading
  }
  let next = read(0)
  for (const [index, input] of inputs.entries()) {
    const contents = await (next as Promise<string>)
    next = read(index + 1)
    yield { index, input, contents }
  }
}

/**
 * UTF-8 bytes as a string. Most input is ASCII, and Node decodes it four times faster as ASCII
 * than as UTF-8 (the same string, for bytes below 0x80), after a check that costs next to nothing.
 */
function decodeUtf8(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('ascii') : bytes.toString('utf8')
}

/** The bytes of the lines of `file` that start in `range`. */
async function readSplit(file: string, range: ByteRange): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    // One byte before the range tells whether a line starts right at its first byte.
    const fromByte = Math.max(0, range.startByte - 1)
    let bytes = await readAt(handle, fromByte, range.endByte - fromByte)
    let begin = 0
    if (range.startByte > 0) {
      const newline = bytes.indexOf(NEWLINE)
      // No line starts in the range: its bytes belong to the line of an earlier piece.
      if (newline < 0 || newline + 1 >= bytes.length) return Buffer.alloc(0)
      begin = newline + 1
    }
    while (bytes.length > begin && bytes[bytes.length - 1] !== NEWLINE) {
      const more = await readAt(handle, fromByte + bytes.length, LINE_END_READ_BYTES)
      if (more.length === 0) break
      const newline = more.indexOf(NEWLINE)
      bytes = Buffer.concat([bytes, newline < 0 ? more : more.subarray(0, newline + 1)])
    }
    return bytes.subarray(begin)
  } finally {
    await handle.close()
  }
}

/** Up to `length` bytes from `position`, fewer only at the end of the file. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return buffer.subarray(0, filled)
}
