// The shapes shared by the coordinator, the workers and the apps: what an app exports, what a
// worker is told to do, and what it reports back.

/** One pair a map emits; reduce sees every value emitted for its key. */
export interface KeyValue {
  readonly key: string
  readonly value: string
}

/** Handed to map, reduce and combine calls: the app's way to count things for the job summary. */
export interface TaskContext {
  /** Adds `by` (default 1) to the app counter `name`; only the attempt that commits is counted. */
  increment(name: string, by?: number): void
}

/** Handed to map calls: besides counting, a way to emit pairs one by one. */
export interface MapContext extends TaskContext {
  /**
   * Emits one pair, as if it were in the array map returns, ahead of those. A map that emits every
   * pair spares an object per pair and the array of them: the word count emits each word.
   */
  emit(key: string, value: string): void
}

/**
 * An app's map: the pairs of one input file, given its name and whole contents (UTF-8), emitted
 * through `context.emit`, returned, or both. It may run more than once for a file (re-executions,
 * backups), so it must be deterministic, with no effect beyond its result.
 */
export type MapFunction = (filename: string, contents: string, context: MapContext) => MapResult | Promise<MapResult>
/** What a map returns: pairs, or nothing if it emitted them. */
export type MapResult = KeyValue[] | void
/** An app's reduce: the output value for `key`, given every value mapped to it. The same rules as for map apply. */
export type ReduceFunction = (key: string, values: string[], context: TaskContext) => string | Promise<string>

/** A MapReduce application: the module named by `--app` exports these. */
export interface MapReduceApp {
  readonly map: MapFunction
  readonly reduce: ReduceFunction
  /**
   * Optional: folds one map task's values for a key before they are written, as reduce would (it
   * must be associative and commutative, and its result must be a valid reduce input).
   */
  readonly combine?: ReduceFunction
}

/** A byte range of an input file; a map task of a split maps the lines that start in it. */
export interface ByteRange {
  readonly startByte: number
  readonly endByte: number
}

/** One input of a map task, handed to one map call: a whole file, or a piece of a file larger than the split size. */
export interface MapInput {
  readonly inputFile: string
  /** Present for a piece of a big file: the lines that start in this byte range. */
  readonly split?: ByteRange
}

/**
 * The two kinds of task a job runs: map tasks (a piece of a big file, or one or more small files
 * packed together, each file its own map call), then nReduce reduces.
 */
export type TaskKind = 'map' | 'reduce'

export type Assignment =
  | {
      readonly kind: 'map'
      readonly task: number
      readonly attempt: number
      /** Mapped one after another, a map call each: one piece of a big file, or one or more whole files. */
      readonly inputs: readonly MapInput[]
      readonly nReduce: number
      readonly skipRecords: readonly string[]
    }
  | {
      readonly kind: 'reduce'
      readonly task: number
      readonly attempt: number
      readonly nMap: number
      readonly skipRecords: readonly string[]
    }
  /** Nothing to hand out now (tasks of this phase are all running): ask again. */
  | { readonly kind: 'wait' }
  /** The job is over: the worker exits. */
  | { readonly kind: 'exit' }

export type TaskAssignment = Extract<Assignment, { kind: TaskKind }>

/** Counters of an attempt or a job: the framework's own and the app's. */
export interface Counters {
  readonly framework: Readonly<Record<string, number>>
  readonly app: Readonly<Record<string, number>>
}

interface ReportBase {
  readonly workerId: string
  readonly kind: TaskKind
  readonly task: number
  readonly attempt: number
}

export type TaskReport =
  | (ReportBase & { readonly ok: true; readonly counters: Counters })
  | (ReportBase & {
      readonly ok: false
      readonly error: string
      /** The record (map: input file, reduce: key) the app failed on, or null if the failure was elsewhere. */
      readonly badRecord: string | null
    })
