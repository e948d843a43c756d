/** What can go wrong in a MapReduce job; see {@link MapReduceError}. */
export type MapReduceErrorCode =
  /** An input file given to the job does not exist or is not a readable file. */
  | 'ERR_MR_INPUT_MISSING'
  /** The app module could not be imported. */
  | 'ERR_MR_APP_LOAD'
  /** The app module loaded but does not export map and reduce functions. */
  | 'ERR_MR_APP_SHAPE'
  /** A worker never reached the coordinator within its timeout. */
  | 'ERR_MR_COORDINATOR_UNREACHABLE'
  /** A task failed too often (or skipped too many records): the job gave up. */
  | 'ERR_MR_JOB_FAILED'
  /** A job option is out of range. */
  | 'ERR_MR_BAD_OPTION'
  /** An intermediate file a reduce task needs is missing or malformed. */
  | 'ERR_MR_BAD_INTERMEDIATE'
  /** The app used more distinct counters than the bound allows. */
  | 'ERR_MR_TOO_MANY_COUNTERS'
  /** A message from the coordinator that this worker does not understand (mismatched versions). */
  | 'ERR_MR_PROTOCOL'

/**
 * What can go wrong in a MapReduce job, as errors with codes: each says what failed, where, and
 * what the user can do about it. Thrown by the job's parts: the coordinator (a bad option, a failed
 * job on `finished`), workers, the app loader and the sequential runner.
 */
export class MapReduceError extends Error {
  constructor(
    readonly code: MapReduceErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'MapReduceError'
  }
}

/**
 * The app's own map or reduce threw (or returned something that is not a result) while processing
 * `record`: the input file of a map, the key of a reduce. The worker reports the record so the
 * coordinator can count failures per record and, if asked to, skip it on the next attempt.
 */
export class AppRecordError extends Error {
  readonly code = 'ERR_MR_APP_RECORD'
  constructor(
    readonly record: string,
    override readonly cause: unknown,
    phase: 'map' | 'reduce',
  ) {
    super(`${phase} of ${JSON.stringify(record)} failed: ${cause instanceof Error ? cause.message : String(cause)}`)
    this.name = 'AppRecordError'
  }
}
