// The CPU time of this process's main thread (the event loop's), apart from the threads beside it
// (libuv's pool, where LevelDB writes; V8's helpers). Linux keeps it per thread in
// /proc/self/task/<tid>/schedstat: nanoseconds on a CPU, nanoseconds runnable but waiting for one,
// and time slices. The main thread's tid is the process id. The file is opened once and read with
// pread, a few microseconds a read, so a timer may read it every few milliseconds.

import { closeSync, openSync, readSync } from 'node:fs'

/** Reads the main thread's CPU time; close() lets go of the file. */
export interface MainThreadCpu {
  /** Nanoseconds the main thread has run on a CPU since it started. */
  runNs(): number
  close(): void
}

/** Generous room for three decimal counters and their separators. */
const READ_BYTES = 96

/** The main thread's CPU time, or null where the system keeps no per-thread schedstat (not Linux). */
export function openMainThreadCpu(): MainThreadCpu | null {
  let fd: number
  try {
    fd = openSync(`/proc/self/task/${process.pid}/schedstat`, 'r')
  } catch {
    return null
  }
  const buffer = Buffer.alloc(READ_BYTES)
  const read = (): number => {
    const length = readSync(fd, buffer, 0, READ_BYTES, 0)
    const space = buffer.indexOf(0x20)
    const ns = Number(buffer.toString('latin1', 0, space < 0 || space > length ? length : space))
    if (!Number.isFinite(ns)) throw new Error(`unexpected /proc/self/task/${process.pid}/schedstat: ${JSON.stringify(buffer.toString('latin1', 0, length))}`)
    return ns
  }
  try {
    read()
  } catch {
    closeSync(fd)
    return null
  }
  return {
    runNs: read,
    close: () => closeSync(fd),
  }
}
