// Typed errors of the log store. Each says which store and which index or key is involved.

/** The base of every error the log store throws; `code` (ERR_LOG_...) tells them apart. */
export class LogStoreError extends Error {
  constructor(
    /** Stable across versions, for matching: e.g. ERR_LOG_CORRUPT, ERR_LOG_CLOSED. */
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** A record failed its checksum or is malformed: the data on disk is damaged. */
export class CorruptionError extends LogStoreError {
  constructor(
    readonly store: string,
    readonly where: string,
    detail: string,
  ) {
    super('ERR_LOG_CORRUPT', `log store "${store}": corrupt ${where}: ${detail}`)
  }
}

/** The requested index lies at or below the snapshot and was discarded. */
export class CompactedError extends LogStoreError {
  constructor(
    readonly store: string,
    readonly index: number,
    readonly firstIndex: number,
  ) {
    super('ERR_LOG_COMPACTED', `log store "${store}": index ${index} is compacted into the snapshot (first retained index is ${firstIndex})`)
  }
}

/** The requested index is past the end of the log. */
export class OutOfRangeError extends LogStoreError {
  constructor(
    readonly store: string,
    readonly index: number,
    readonly lastIndex: number,
  ) {
    super('ERR_LOG_OUT_OF_RANGE', `log store "${store}": index ${index} is past the last index ${lastIndex}`)
  }
}

/** An append that would leave a hole or rewrite the snapshot's part of the log. */
export class NonContiguousAppendError extends LogStoreError {
  constructor(store: string, detail: string) {
    super('ERR_LOG_NON_CONTIGUOUS', `log store "${store}": ${detail}`)
  }
}

/** A snapshot older than (or as old as) the one already installed. */
export class StaleSnapshotError extends LogStoreError {
  constructor(store: string, offeredIndex: number, currentIndex: number) {
    super('ERR_LOG_STALE_SNAPSHOT', `log store "${store}": snapshot through index ${offeredIndex} is not newer than the installed one through ${currentIndex}`)
  }
}

/** The data directory belongs to a different node or cluster. */
export class IdentityMismatchError extends LogStoreError {
  constructor(store: string, expected: string, found: string) {
    super('ERR_LOG_IDENTITY', `log store "${store}" belongs to ${found}, not ${expected}; point this node at its own data directory`)
  }
}

/** A new data directory cannot be created without knowing which cluster it is for. */
export class ClusterIdRequiredError extends LogStoreError {
  constructor(store: string, suggestion: string) {
    super(
      'ERR_LOG_CLUSTER_ID',
      `log store "${store}" is new and no cluster id was given: give every founding member of a new cluster the same id (e.g. --cluster-id ${suggestion}, freshly generated)`,
    )
  }
}

/** A write to the underlying database failed; the store refuses all further work. */
export class LogStoreFailedError extends LogStoreError {
  constructor(
    store: string,
    override readonly cause: unknown,
  ) {
    super('ERR_LOG_FAILED', `log store "${store}" failed a durable write and stopped: ${String(cause)}`)
  }
}

/** Thrown by a read or write on a store after close() or abandon(), and by writes that abandon() dropped. */
export class LogStoreClosedError extends LogStoreError {
  constructor(store: string) {
    super('ERR_LOG_CLOSED', `log store "${store}" is closed`)
  }
}

/** A directory to read was expected to hold a log store's database and holds none (or does not exist). */
export class NoDatabaseError extends LogStoreError {
  constructor(
    readonly directory: string,
    readonly exists: boolean,
  ) {
    super('ERR_LOG_NO_DATABASE', `no data directory at ${directory}: ${exists ? 'it holds no LevelDB database (no CURRENT file)' : 'it does not exist'}`)
  }
}

/**
 * LevelDB could not open a data directory: another process holds it (ERR_LOG_LOCKED), or the path
 * cannot hold a database (ERR_LOG_OPEN: a file, no permission), with LevelDB's reason as `cause`.
 */
export class DatabaseOpenError extends LogStoreError {
  constructor(
    readonly directory: string,
    locked: boolean,
    reason: string,
    override readonly cause: unknown,
  ) {
    super(
      locked ? 'ERR_LOG_LOCKED' : 'ERR_LOG_OPEN',
      locked
        ? `data directory ${directory} is in use by another process (it holds LevelDB's lock); stop that process first`
        : `cannot open data directory ${directory}: ${reason}`,
    )
  }
}
