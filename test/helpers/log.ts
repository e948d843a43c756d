// Shared harness for the log store tests: the two backends' locations, temp directories, and
// fault injection into a store's database.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LevelDatabase, diskDatabase, memoryDatabase } from '../../src/log/index.js'
import type { LogStoreConformanceOptions, LogStoreLocation } from '../../src/testing/log-store-conformance.js'

/** A fresh directory under the OS temp dir, and a way to delete it. */
export function makeTempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `lograft-${prefix}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** A location with the name its stores get in errors, which tests of those errors match. */
export interface NamedLogLocation extends LogStoreLocation {
  readonly storeName: string
}

/** A backend as the conformance suite takes it, its locations named. */
export interface LogBackend extends LogStoreConformanceOptions {
  createLocation(): NamedLogLocation
}

/** memory-level: one database object, reopened after each close, as a simulated restart does. */
export const memoryBackend: LogBackend = {
  name: 'memory-level',
  createLocation() {
    const db = memoryDatabase()
    return {
      storeName: 'memory',
      database: () => db,
      remove: () => {}, // Nothing on disk: the database goes with this object.
    }
  },
}

/** classic-level in a temp directory, opened afresh each time, as a restarted process does. */
export const diskBackend: LogBackend = {
  name: 'classic-level',
  createLocation() {
    const dir = makeTempDir('log-store')
    return {
      storeName: dir.path,
      database: () => diskDatabase(dir.path),
      remove: dir.remove,
    }
  },
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
