// Shared harness for the log store tests: deterministic entries whose bytes can be re-derived from
// (index, term, nonce), temp directories, raw access to a store's database, and fault injection.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LevelDatabase, LogEntry } from '../../src/log/index.js'

/** Payload bytes of the entry (index, term) written by the write tagged `nonce`; 8 to 71 bytes. */
export function entryPayload(index: number, term: number, nonce: number): Uint8Array {
  return derivedBytes(8 + ((index * 7 + nonce) % 64), index * 31 + term * 17 + nonce)
}

/** Bytes of the snapshot through `index` tagged `nonce`. */
export function snapshotPayload(index: number, nonce: number, sizeBytes: number): Uint8Array {
  return derivedBytes(sizeBytes, index * 131 + nonce)
}

function derivedBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let state = (seed ^ 0x9e3779b9) >>> 0
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state >>> 24
  }
  return out
}

/** `count` contiguous entries from `from`, all in `term`, with payloads from entryPayload. */
export function makeEntries(from: number, count: number, term: number, nonce = 0): LogEntry[] {
  return Array.from({ length: count }, (_, offset) => ({
    index: from + offset,
    term,
    type: 1,
    data: entryPayload(from + offset, term, nonce),
  }))
}

/**
 * `entries` with their data as plain Uint8Arrays, for deep comparison: range reads hand out
 * Buffers (a Uint8Array subclass), which deep equality tells apart from Uint8Arrays.
 */
export function plain(entries: readonly LogEntry[]): LogEntry[] {
  return entries.map((entry) => ({ ...entry, data: Uint8Array.from(entry.data) }))
}

/** A fresh directory under the OS temp dir, and a way to delete it. */
export function makeTempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `lograft-${prefix}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** Opens `db` (unless already open), runs `work` on it and closes it again. */
export async function withRawDatabase<T>(db: LevelDatabase, work: (db: LevelDatabase) => Promise<T>): Promise<T> {
  if (db.status !== 'open') await db.open()
  try {
    return await work(db)
  } finally {
    await db.close()
  }
}

/** Every key and value stored in `db`, in key order. */
export async function rawRecords(db: LevelDatabase): Promise<Array<[Uint8Array, Uint8Array]>> {
  const records: Array<[Uint8Array, Uint8Array]> = []
  for await (const record of db.iterator()) records.push(record)
  return records
}

export interface BatchFaults {
  /** While true, every batch handed to the database fails instead of being written. */
  failBatches: boolean
}

/**
 * `target` with some of its properties replaced: `override` returns the replacement, or undefined
 * to pass the property through. Methods passed through run on the real object, whose private
 * state is not reachable via the proxy.
 */
export function withOverrides<T extends object>(target: T, override: (property: string | symbol) => unknown): T {
  return new Proxy(target, {
    get(real, property) {
      const replacement = override(property)
      if (replacement !== undefined) return replacement
      const value: unknown = Reflect.get(real, property, real)
      return typeof value === 'function' ? value.bind(real) : value
    },
  })
}

function injectedBatchFailure(): Error {
  return new Error('injected batch failure')
}

/** `db` with batches that fail on demand, as a full disk or an I/O error would make them. */
export function withBatchFaults(db: LevelDatabase, faults: BatchFaults): LevelDatabase {
  // Both forms: db.batch(ops) rejects; db.batch() gives a chained batch whose write rejects.
  const failingBatch = (...args: unknown[]): unknown => {
    if (args.length > 0) return Promise.reject(injectedBatchFailure())
    const batch = db.batch()
    return withOverrides(batch, (property) =>
      property === 'write'
        ? async () => {
            await batch.close()
            throw injectedBatchFailure()
          }
        : undefined,
    )
  }
  return withOverrides(db, (property) => (property === 'batch' && faults.failBatches ? failingBatch : undefined))
}
