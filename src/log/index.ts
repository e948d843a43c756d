// Public surface of the durable log.
export * from './types.js'
export * from './errors.js'
export { LogStore, SnapshotWriter, newClusterId, type LevelDatabase, type LogStoreOptions, type SnapshotPoint, type StoreSizes } from './log-store.js'
export type { GroupCommitStats } from './group-commit.js'
export { diskDatabase, memoryDatabase, openDiskLog, openExistingDiskLog, openMemoryLog } from './backends.js'
