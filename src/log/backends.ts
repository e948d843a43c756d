// Opening a LogStore on disk (classic-level) or in memory (memory-level): the only difference
// between production and simulation storage.

import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { type LevelDatabase, LogStore, type LogStoreOptions } from './log-store.js'

const binary = { keyEncoding: 'view', valueEncoding: 'view' } as const

export function diskDatabase(directory: string): LevelDatabase {
  return new ClassicLevel<Uint8Array, Uint8Array>(directory, binary)
}

export function memoryDatabase(): LevelDatabase {
  return new MemoryLevel<Uint8Array, Uint8Array>(binary)
}

/** A LogStore in a LevelDB directory; `name` defaults to the directory. */
export function openDiskLog(directory: string, options: Partial<LogStoreOptions> = {}): Promise<LogStore> {
  return LogStore.open(diskDatabase(directory), { name: directory, ...options })
}

/** A LogStore in memory-level, for simulation and tests. */
export function openMemoryLog(database: LevelDatabase = memoryDatabase(), options: Partial<LogStoreOptions> = {}): Promise<LogStore> {
  return LogStore.open(database, { name: 'memory', ...options })
}
