// The crash-test writer's record of its writes, kept in a file that a SIGKILL cannot cut short: one
// line per write before it is issued to the store ("issue <seq> <op json>") and one per
// acknowledgement ("ack <seq>"), each handed to write(2) synchronously. Once write(2) has returned,
// the bytes are in the kernel's page cache and outlive the process. The child's stdout, which the
// record used to travel on, is not that: it is a Unix socket whose buffer a few hundred short lines
// fill (about 280 here), which the writer produces in under 100 ms. A parent kept off the CPU that
// long falls behind, Node queues the child's further writes in its memory, the parent's kill timer
// runs before it reads again, the kill loses the queue, and a durable write looks never issued.
//
// Acks go to the same file although a lost ack would only weaken the check (fewer writes required
// to be durable): then nothing is lost, the check keeps its full strength, and issues and acks are
// one ordered sequence with one reader.

import { openSync, readFileSync, writeSync } from 'node:fs'
import type { WriterOp } from './log-model.js'

/** What the writer issued and how much of it was acknowledged, as read back from its record. */
export interface WriterRecord {
  readonly issued: readonly WriterOp[]
  /** Acks come in issue order, so the acknowledged writes are the first `acked` issued ones. */
  readonly acked: number
  readonly ackedInOrder: boolean
}

/** Thrown when a record file does not hold what the writer writes: a harness bug, not a store bug. */
export class WriterRecordError extends Error {
  readonly code = 'ERR_WRITER_RECORD'
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`writer record ${path}: ${detail}`)
  }
}

/** The writer's side: appends lines to a new record file, each with one write(2). */
export class WriterRecordFile {
  private readonly fd: number

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'wx')
  }

  /** Call before the write can reach the store: a record written afterwards could be too late. */
  issued(seq: number, op: WriterOp): void {
    this.append(`issue ${seq} ${JSON.stringify(op)}\n`)
  }

  /** Call once the write's promise has resolved. */
  acked(seq: number): void {
    this.append(`ack ${seq}\n`)
  }

  private append(line: string): void {
    const bytes = Buffer.from(line)
    const written = writeSync(this.fd, bytes)
    // A short write to a regular file means a full disk; a record missing its tail would be unsound.
    if (written !== bytes.length) throw new WriterRecordError(this.path, `wrote ${written} of ${bytes.length} bytes`)
  }
}

/** Reads the record of a writer that has exited. */
export function readWriterRecord(path: string): WriterRecord {
  const lines = readFileSync(path, 'utf8').split('\n')
  // A last line without its newline was cut by the kill inside write(2) (a fatal signal can stop a
  // write at a page boundary). Its writeSync never returned, so its write was never issued.
  lines.pop()
  const issued: WriterOp[] = []
  let acked = 0
  let ackedInOrder = true
  for (const line of lines) {
    const [word, seqText, json] = splitLine(line)
    const seq = Number(seqText)
    if (word === 'issue' && seq === issued.length && json !== '') issued.push(JSON.parse(json) as WriterOp)
    else if (word === 'ack' && seq < issued.length) {
      ackedInOrder &&= seq === acked
      acked++
    } else throw new WriterRecordError(path, `unexpected line "${line}" after ${issued.length} issued writes`)
  }
  return { issued, acked, ackedInOrder }
}

function splitLine(line: string): [string, string, string] {
  const first = line.indexOf(' ')
  if (first < 0) return [line, '', '']
  const second = line.indexOf(' ', first + 1)
  if (second < 0) return [line.slice(0, first), line.slice(first + 1), '']
  return [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)]
}
