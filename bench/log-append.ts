// Append throughput of LogStore on classic-level against raw classic-level batches of the same
// shape (same key and value sizes, synced), each in a fresh temp directory. The gap between the
// two is what the store's own work costs: keys, checksummed values, view bookkeeping, group commit.
//
// Run with `npm run bench:log`; MEASURE_MS and WARMUP_MS override the durations.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { openDiskLog, type LogEntry, type LogStore } from '../src/log/index.js'
import { ENTRY_KEY_BYTES, entryKey, writeEntryKey } from '../src/log/keys.js'

const ENTRY_DATA_BYTES = 100
/** A stored entry value: 4-byte checksum, 8-byte term, 1-byte type, then the data. */
const STORED_VALUE_BYTES = 4 + 8 + 1 + ENTRY_DATA_BYTES
const SEQUENTIAL_BATCH_SIZES = [1, 16, 128]
const CONCURRENT_APPENDERS = 64
const MEASURE_MS = Number(process.env.MEASURE_MS ?? 2000)
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 300)
/** Each side is measured in alternating rounds, so a slow spell of the disk or CPU hits both alike. */
const ROUNDS = 16

type RawDatabase = ClassicLevel<Uint8Array, Uint8Array>

/** One way of appending: `step` writes some entries durably and returns how many. */
interface Appender {
  step(): Promise<number>
  /** How many callers run `step` at once, each starting its next call when the last resolves. */
  readonly callers: number
  close(): Promise<void>
}

const payload = new Uint8Array(ENTRY_DATA_BYTES).fill(0x5a)
const rawValue = new Uint8Array(STORED_VALUE_BYTES).fill(0x5a)

function lograftSequential(store: LogStore, batchSize: number): Appender {
  return {
    async step() {
      const from = store.lastIndex + 1
      const entries: LogEntry[] = []
      for (let i = 0; i < batchSize; i++) entries.push({ index: from + i, term: 1, type: 0, data: payload })
      await store.append(entries)
      return batchSize
    },
    callers: 1,
    close: () => store.close(),
  }
}

function rawSequential(db: RawDatabase, batchSize: number): Appender {
  let next = 1
  return {
    async step() {
      // Keys laid out in one buffer per batch, as LogStore lays out its keys and values, so the
      // baseline does no more allocation than it must and the ratio shows only the store's work.
      const keys = new Uint8Array(batchSize * ENTRY_KEY_BYTES)
      const ops = []
      for (let i = 0; i < batchSize; i++) {
        writeEntryKey(keys, i * ENTRY_KEY_BYTES, next++)
        ops.push({ type: 'put' as const, key: keys.subarray(i * ENTRY_KEY_BYTES, (i + 1) * ENTRY_KEY_BYTES), value: rawValue })
      }
      await db.batch(ops, { sync: true })
      return batchSize
    },
    callers: 1,
    close: () => db.close(),
  }
}

function lograftConcurrent(store: LogStore): Appender {
  return {
    // The index is taken when the call is made, so concurrent appends stay contiguous.
    step: () => store.append([{ index: store.lastIndex + 1, term: 1, type: 0, data: payload }]).then(() => 1),
    callers: CONCURRENT_APPENDERS,
    close: () => store.close(),
  }
}

function rawConcurrent(db: RawDatabase): Appender {
  let next = 1
  return {
    step: () => db.put(entryKey(next++), rawValue, { sync: true }).then(() => 1),
    callers: CONCURRENT_APPENDERS,
    close: () => db.close(),
  }
}

/** Entries appended by `appender` in about `durationMs`, and the time it really took. */
async function measure(appender: Appender, durationMs: number): Promise<{ entries: number; elapsedMs: number }> {
  const started = performance.now()
  let entries = 0
  const caller = async (): Promise<void> => {
    while (performance.now() - started < durationMs) {
      // Not `entries += await ...`: that reads `entries` before awaiting and loses other callers' counts.
      const appended = await appender.step()
      entries += appended
    }
  }
  await Promise.all(Array.from({ length: appender.callers }, caller))
  return { entries, elapsedMs: performance.now() - started }
}

interface Row {
  label: string
  lograft: () => Promise<Appender>
  raw: () => Promise<Appender>
}

async function run(row: Row, directories: string[]): Promise<{ lograft: number; raw: number }> {
  const sides = { lograft: await row.lograft(), raw: await row.raw() }
  const totals = { lograft: { entries: 0, elapsedMs: 0 }, raw: { entries: 0, elapsedMs: 0 } }
  for (const side of ['lograft', 'raw'] as const) await measure(sides[side], WARMUP_MS)
  for (let round = 0; round < ROUNDS; round++) {
    // Each side goes first in half the rounds: whichever runs second inherits the background
    // compaction the first one started.
    const order = round % 2 === 0 ? (['lograft', 'raw'] as const) : (['raw', 'lograft'] as const)
    for (const side of order) {
      const result = await measure(sides[side], MEASURE_MS / ROUNDS)
      totals[side].entries += result.entries
      totals[side].elapsedMs += result.elapsedMs
    }
  }
  await sides.lograft.close()
  await sides.raw.close()
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  const perSecond = (total: { entries: number; elapsedMs: number }): number => (total.entries * 1000) / total.elapsedMs
  return { lograft: perSecond(totals.lograft), raw: perSecond(totals.raw) }
}

const directories: string[] = []
const freshDirectory = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-bench-'))
  directories.push(directory)
  return directory
}
const openRaw = async (): Promise<RawDatabase> => {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(freshDirectory(), { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  return db
}

const rows: Row[] = [
  ...SEQUENTIAL_BATCH_SIZES.map((batchSize) => ({
    label: String(batchSize),
    lograft: async () => lograftSequential(await openDiskLog(freshDirectory()), batchSize),
    raw: async () => rawSequential(await openRaw(), batchSize),
  })),
  {
    label: `${CONCURRENT_APPENDERS} concurrent x 1`,
    lograft: async () => lograftConcurrent(await openDiskLog(freshDirectory())),
    raw: async () => rawConcurrent(await openRaw()),
  },
]

const header = ['batch size', 'lograft appends/s', 'raw appends/s', 'ratio']
const lines = [header]
for (const row of rows) {
  const result = await run(row, directories)
  lines.push([row.label, result.lograft.toFixed(0), result.raw.toFixed(0), (result.lograft / result.raw).toFixed(2)])
  process.stderr.write(`measured ${row.label}\n`)
}
const widths = header.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length)))
for (const line of lines) console.log(line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | '))
