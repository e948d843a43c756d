// The coordinator's brain, free of I/O: which task each worker gets, when a silent attempt is
// presumed dead, when to start backups for stragglers, which records to skip, and when the job is
// done. It is driven by messages (a worker's request or report) and by time passed in as `nowMs`;
// the coordinator process is a thin shell that feeds it RPCs and clock ticks.

import { assert } from '../base/assert.js'
import { MapReduceError } from './errors.js'
import { packMapTasks } from './input-packing.js'
import { DEFAULT_SPLIT_BYTES } from './input-splits.js'
import type { Assignment, Counters, MapInput, TaskKind, TaskReport } from './types.js'

/**
 * How a job copes with slow and failing workers and apps; times in ms. Every field has a default; a
 * negative or non-finite number is refused with ERR_MR_BAD_OPTION.
 */
export interface SchedulerTuning {
  /** An attempt not reported within this long is presumed dead and its task goes to another worker. Default 10 000 ms. */
  taskTimeoutMs: number
  /** Start backup attempts of the last running tasks of a phase (the paper's §3.6). Default false. */
  backupTasks: boolean
  /** Only attempts that have run at least this long get a backup. Default 1000 ms. */
  backupAfterMs: number
  /**
   * Skip a record once the app has failed on it repeatedly: an input file of a map task (its map
   * call; the task's other files are still mapped), or a key of a reduce task. Default false.
   */
  skipBadRecords: boolean
  /** Failures on one record before it is skipped (the paper: more than one). Default 2. */
  recordFailuresBeforeSkip: number
  /** Failures of one task on one record (or outside any record) that fail the job, unless skipped. Default 4. */
  maxTaskFailures: number
  /** Records one task may skip before the job fails instead. Default 100. */
  maxSkippedRecordsPerTask: number
}

export const DEFAULT_TUNING: Readonly<SchedulerTuning> = {
  taskTimeoutMs: 10_000,
  backupTasks: false,
  backupAfterMs: 1000,
  skipBadRecords: false,
  recordFailuresBeforeSkip: 2,
  maxTaskFailures: 4,
  maxSkippedRecordsPerTask: 100,
}

export interface SchedulerOptions extends Partial<SchedulerTuning> {
  /**
   * The files to map, in this order, a map call each. Small files are packed into map tasks of
   * about splitBytes (but at least 16 tasks, or a task per file), a file over splitBytes is split
   * into several.
   */
  inputFiles: readonly string[]
  /** Reduce tasks, and so output files (mr-out-0 …); an integer ≥ 1. */
  nReduce: number
  /** The input files' sizes, in the same order; without them every file is one map task. */
  inputBytes?: readonly number[]
  /**
   * A map task covers about this many bytes: a larger file is mapped in pieces of whole lines of
   * about this size, smaller files are packed together. Default 8 MiB.
   */
  splitBytes?: number
}

/** Where a job is: every map runs before any reduce; 'done' and 'failed' are final. */
export type Phase = 'map' | 'reduce' | 'done' | 'failed'

/** What happened, for progress displays and logs; drained with takeEvents(). */
export type SchedulerEvent =
  | { type: 'assigned'; kind: TaskKind; task: number; attempt: number; workerId: string; backup: boolean }
  | { type: 'completed'; kind: TaskKind; task: number; attempt: number; workerId: string; durationMs: number }
  | { type: 'timed-out'; kind: TaskKind; task: number; attempt: number; workerId: string }
  | { type: 'failed'; kind: TaskKind; task: number; attempt: number; workerId: string; error: string; badRecord: string | null }
  | { type: 'skipping'; kind: TaskKind; task: number; record: string }
  | { type: 'phase'; phase: Phase }

/** The tasks of one phase, by how far they got. */
export interface PhaseProgress {
  readonly total: number
  readonly done: number
  /** Tasks not done with at least one attempt running. */
  readonly running: number
}

/** A record a task skipped because the app kept failing on it (SchedulerTuning.skipBadRecords). */
export interface SkippedRecord {
  readonly kind: TaskKind
  readonly task: number
  readonly record: string
}

/** A job's progress and totals, as {@link Coordinator.status} and `finished` report them. */
export interface JobStatus {
  readonly phase: Phase
  readonly map: PhaseProgress
  readonly reduce: PhaseProgress
  /** Attempts started, backups included. */
  readonly attempts: number
  /** Attempts beyond the first of each task: after a timeout, a failure, or as a backup. */
  readonly reexecutions: number
  readonly timedOut: number
  readonly failed: number
  readonly backups: number
  /** Reports of attempts whose task another attempt had already finished. */
  readonly duplicates: number
  readonly skipped: readonly SkippedRecord[]
  /** Summed over the attempt that finished each task. */
  readonly counters: Counters
  readonly workers: number
  /** Why the job failed, when phase is 'failed'. */
  readonly failure: string | null
}

interface RunningAttempt {
  readonly attempt: number
  readonly workerId: string
  readonly startedMs: number
}

interface TaskState {
  readonly kind: TaskKind
  readonly index: number
  done: boolean
  running: RunningAttempt[]
  attemptsStarted: number
  /** Failures by record; the key null counts failures outside any record. */
  readonly failures: Map<string | null, number>
  readonly skip: string[]
}

function newTask(kind: TaskKind, index: number): TaskState {
  return { kind, index, done: false, running: [], attemptsStarted: 0, failures: new Map(), skip: [] }
}

function checkTuning(tuning: SchedulerTuning): void {
  for (const [name, value] of Object.entries(tuning)) {
    if (typeof value === 'number' && (!Number.isFinite(value) || value < 0)) {
      throw new MapReduceError('ERR_MR_BAD_OPTION', `${name} must be a number ≥ 0, got ${value}`)
    }
  }
  if (tuning.taskTimeoutMs <= 0) throw new MapReduceError('ERR_MR_BAD_OPTION', `taskTimeoutMs must be > 0, got ${tuning.taskTimeoutMs}`)
  if (tuning.maxTaskFailures < 1) throw new MapReduceError('ERR_MR_BAD_OPTION', `maxTaskFailures must be ≥ 1, got ${tuning.maxTaskFailures}`)
}

export class Scheduler {
  readonly tuning: Readonly<SchedulerTuning>
  readonly nReduce: number
  /** What each map task maps, by task number. */
  private readonly mapTasks: readonly (readonly MapInput[])[]
  private readonly maps: TaskState[]
  private readonly reduces: TaskState[]
  private currentPhase: Phase = 'map'
  private events: SchedulerEvent[] = []
  private readonly frameworkCounters = new Map<string, number>()
  private readonly appCounters = new Map<string, number>()
  private readonly workers = new Set<string>()
  private timedOut = 0
  private failed = 0
  private backups = 0
  private duplicates = 0
  private failure: string | null = null

  constructor(options: SchedulerOptions) {
    const { inputFiles, nReduce, inputBytes, splitBytes = DEFAULT_SPLIT_BYTES, ...tuning } = options
    if (inputFiles.length === 0) throw new MapReduceError('ERR_MR_BAD_OPTION', 'a job needs at least one input file')
    if (!Number.isSafeInteger(nReduce) || nReduce < 1) throw new MapReduceError('ERR_MR_BAD_OPTION', `nReduce must be an integer ≥ 1, got ${nReduce}`)
    if (!Number.isSafeInteger(splitBytes) || splitBytes < 1)
      throw new MapReduceError('ERR_MR_BAD_OPTION', `splitBytes must be an integer ≥ 1, got ${splitBytes}`)
    if (inputBytes && inputBytes.length !== inputFiles.length) {
      throw new MapReduceError('ERR_MR_BAD_OPTION', `inputBytes gives ${inputBytes.length} sizes for ${inputFiles.length} input files`)
    }
    this.tuning = { ...DEFAULT_TUNING, ...Object.fromEntries(Object.entries(tuning).filter(([, value]) => value !== undefined)) }
    checkTuning(this.tuning)
    this.mapTasks = packMapTasks(inputFiles, inputBytes, splitBytes)
    this.nReduce = nReduce
    this.maps = this.mapTasks.map((_, index) => newTask('map', index))
    this.reduces = Array.from({ length: nReduce }, (_, index) => newTask('reduce', index))
  }

  get phase(): Phase {
    return this.currentPhase
  }

  /** A worker asks for work: a task to run, 'wait' to ask again later, or 'exit'. */
  request(workerId: string, nowMs: number): Assignment {
    this.workers.add(workerId)
    const tasks = this.phaseTasks()
    if (!tasks) return { kind: 'exit' }
    const idle = tasks.find((task) => !task.done && task.running.length === 0)
    if (idle) return this.start(idle, workerId, nowMs, false)
    const straggler = this.tuning.backupTasks ? this.backupCandidate(tasks, nowMs) : undefined
    if (straggler) return this.start(straggler, workerId, nowMs, true)
    return { kind: 'wait' }
  }

  /** A worker reports an attempt's outcome; reports of unknown tasks are ignored. */
  report(report: TaskReport, nowMs: number): void {
    const task = (report.kind === 'map' ? this.maps : this.reduces)[report.task]
    if (!task || report.attempt < 1 || report.attempt > task.attemptsStarted) return
    const attempt = task.running.find((running) => running.attempt === report.attempt)
    task.running = task.running.filter((running) => running.attempt !== report.attempt)
    if (task.done) {
      if (report.ok) this.duplicates++
      return
    }
    if (report.ok) {
      this.complete(task, report, report.counters, attempt ? nowMs - attempt.startedMs : 0)
    } else {
      this.recordFailure(task, report.workerId, report.attempt, report.error, report.badRecord)
    }
  }

  /** Time passes: attempts silent for longer than the task timeout are presumed dead. */
  tick(nowMs: number): void {
    const tasks = this.phaseTasks()
    if (!tasks) return
    for (const task of tasks) {
      if (task.done) continue
      const expired = task.running.filter((attempt) => nowMs - attempt.startedMs >= this.tuning.taskTimeoutMs)
      if (expired.length === 0) continue
      task.running = task.running.filter((attempt) => !expired.includes(attempt))
      for (const attempt of expired) {
        this.timedOut++
        this.events.push({ type: 'timed-out', kind: task.kind, task: task.index, attempt: attempt.attempt, workerId: attempt.workerId })
      }
    }
  }

  /** Events since the last call, oldest first. */
  takeEvents(): SchedulerEvent[] {
    const events = this.events
    this.events = []
    return events
  }

  status(): JobStatus {
    const attempts = [...this.maps, ...this.reduces].reduce((sum, task) => sum + task.attemptsStarted, 0)
    const reexecutions = [...this.maps, ...this.reduces].reduce((sum, task) => sum + Math.max(0, task.attemptsStarted - 1), 0)
    return {
      phase: this.currentPhase,
      map: progressOf(this.maps),
      reduce: progressOf(this.reduces),
      attempts,
      reexecutions,
      timedOut: this.timedOut,
      failed: this.failed,
      backups: this.backups,
      duplicates: this.duplicates,
      skipped: [...this.maps, ...this.reduces].flatMap((task) => task.skip.map((record) => ({ kind: task.kind, task: task.index, record }))),
      counters: { framework: Object.fromEntries(this.frameworkCounters), app: Object.fromEntries(this.appCounters) },
      workers: this.workers.size,
      failure: this.failure,
    }
  }

  private phaseTasks(): TaskState[] | null {
    if (this.currentPhase === 'map') return this.maps
    if (this.currentPhase === 'reduce') return this.reduces
    return null
  }

  private start(task: TaskState, workerId: string, nowMs: number, backup: boolean): Assignment {
    task.attemptsStarted++
    const attempt = task.attemptsStarted
    task.running.push({ attempt, workerId, startedMs: nowMs })
    if (backup) this.backups++
    this.events.push({ type: 'assigned', kind: task.kind, task: task.index, attempt, workerId, backup })
    const skipRecords = [...task.skip]
    if (task.kind === 'map') {
      const inputs = this.mapTasks[task.index]
      assert(inputs !== undefined && inputs.length > 0, `map task ${task.index} has inputs`)
      return { kind: 'map', task: task.index, attempt, inputs, nReduce: this.nReduce, skipRecords }
    }
    return { kind: 'reduce', task: task.index, attempt, nMap: this.maps.length, skipRecords }
  }

  /** The longest-running task that has a single attempt which has run at least backupAfterMs. */
  private backupCandidate(tasks: readonly TaskState[], nowMs: number): TaskState | undefined {
    let best: TaskState | undefined
    let bestStartMs = Number.POSITIVE_INFINITY
    for (const task of tasks) {
      const only = task.running[0]
      if (task.done || task.running.length !== 1 || !only) continue
      if (nowMs - only.startedMs >= this.tuning.backupAfterMs && only.startedMs < bestStartMs) {
        best = task
        bestStartMs = only.startedMs
      }
    }
    return best
  }

  private complete(task: TaskState, report: TaskReport, counters: Counters, durationMs: number): void {
    task.done = true
    task.running = []
    addCounters(this.frameworkCounters, counters.framework)
    addCounters(this.appCounters, counters.app)
    this.events.push({ type: 'completed', kind: task.kind, task: task.index, attempt: report.attempt, workerId: report.workerId, durationMs })
    if (this.currentPhase === 'map' && this.maps.every((map) => map.done)) this.enter('reduce')
    else if (this.currentPhase === 'reduce' && this.reduces.every((reduce) => reduce.done)) this.enter('done')
  }

  private recordFailure(task: TaskState, workerId: string, attempt: number, error: string, badRecord: string | null): void {
    this.failed++
    this.events.push({ type: 'failed', kind: task.kind, task: task.index, attempt, workerId, error, badRecord })
    // An attempt handed out before the record was skipped may still fail on it: that says nothing new.
    if (badRecord !== null && task.skip.includes(badRecord)) return
    const failures = (task.failures.get(badRecord) ?? 0) + 1
    task.failures.set(badRecord, failures)
    const where = `${task.kind} task ${task.index}${badRecord === null ? '' : ` on record ${JSON.stringify(badRecord)}`}`
    if (this.tuning.skipBadRecords && badRecord !== null && failures >= this.tuning.recordFailuresBeforeSkip) {
      if (task.skip.length >= this.tuning.maxSkippedRecordsPerTask) {
        this.fail(`${where} failed ${failures} times and the task has already skipped ${task.skip.length} records (the limit): ${error}`)
        return
      }
      task.skip.push(badRecord)
      this.events.push({ type: 'skipping', kind: task.kind, task: task.index, record: badRecord })
    } else if (failures >= this.tuning.maxTaskFailures) {
      const hint = badRecord !== null && !this.tuning.skipBadRecords ? ' (skipping bad records is off)' : ''
      this.fail(`${where} failed ${failures} times${hint}: ${error}`)
    }
  }

  private fail(reason: string): void {
    this.failure = reason
    this.enter('failed')
  }

  private enter(phase: Phase): void {
    this.currentPhase = phase
    this.events.push({ type: 'phase', phase })
  }
}

function progressOf(tasks: readonly TaskState[]): PhaseProgress {
  let done = 0
  let running = 0
  for (const task of tasks) {
    if (task.done) done++
    else if (task.running.length > 0) running++
  }
  return { total: tasks.length, done, running }
}

function addCounters(into: Map<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(from)) into.set(name, (into.get(name) ?? 0) + value)
}
