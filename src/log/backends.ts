// Opening a LogStore on disk (classic-level) or in memory (memory-level): the only difference
// between production and simulation storage.

import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { DatabaseOpenError, NoDatabaseError } from './errors.js'
import { identityKey } from './keys.js'
import { type LevelDatabase, LogStore, type LogStoreOptions } from './log-store.js'
import { decodeIdentity } from './records.js'
import type { StoredIdentity } from './types.js'

const binary = { keyEncoding: 'view', valueEncoding: 'view' } as const

export function diskDatabase(directory: string): LevelDatabase {
  return new ClassicLevel<Uint8Array, Uint8Array>(directory, binary)
}

export function memoryDatabase(): LevelDatabase {
  return new MemoryLevel<Uint8Array, Uint8Array>(binary)
}

/** A LogStore in a LevelDB directory; `name` defaults to the directory. */
export async function openDiskLog(directory: string, options: Partial<LogStoreOptions> = {}): Promise<LogStore> {
  const db = diskDatabase(directory)
  await openDirectory(db, directory)
  return LogStore.open(db, { name: directory, ...options })
}

/**
 * Opens `db` on `directory`. LevelDB's own error says only "Database failed to open", with the
 * reason in its cause; this one names the directory and the reason, and tells a directory that
 * another process holds (a second node started on it, `lograft log` on a running node's) apart.
 */
async function openDirectory(db: LevelDatabase, directory: string): Promise<void> {
  try {
    await db.open()
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const locked = cause?.code === 'LEVEL_LOCKED'
    const notDirectory = existsSync(directory) && !statSync(directory).isDirectory()
    throw new DatabaseOpenError(directory, locked, notDirectory ? 'it is a file, not a directory' : (cause?.message ?? String(error)), cause ?? error)
  }
}

/**
 * A LogStore in a directory that must already hold one: for reading a node's data (inspection,
 * replay), where a mistyped path must be an error, not a new empty database.
 */
export function openExistingDiskLog(directory: string, options: Partial<LogStoreOptions> = {}): Promise<LogStore> {
  if (!holdsDatabase(directory)) return Promise.reject(new NoDatabaseError(directory, existsSync(directory)))
  return openDiskLog(directory, options)
}

/** A LogStore in memory-level, for simulation and tests. */
export function openMemoryLog(database: LevelDatabase = memoryDatabase(), options: Partial<LogStoreOptions> = {}): Promise<LogStore> {
  return LogStore.open(database, { name: 'memory', ...options })
}

/**
 * Whether `directory` holds a LevelDB database: its CURRENT file names the live manifest. Ask
 * before opening one that must exist, because LevelDB writes its LOCK and LOG files into the
 * directory (creating it if need be) even when told not to create a database.
 */
export function holdsDatabase(directory: string): boolean {
  return existsSync(join(directory, 'CURRENT'))
}

/**
 * The identity a data directory records, or null if it has none (it is new): what a node asks
 * before it decides to join a cluster or resume in one.
 */
export async function readDiskIdentity(directory: string): Promise<StoredIdentity | null> {
  if (!holdsDatabase(directory)) return null
  const db = new ClassicLevel<Uint8Array, Uint8Array>(directory, { ...binary, createIfMissing: false })
  await openDirectory(db, directory)
  try {
    const value = await db.get(identityKey)
    return value === undefined ? null : decodeIdentity(directory, identityKey, value)
  } finally {
    await db.close()
  }
}
