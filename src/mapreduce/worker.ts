// A worker: asks the coordinator for a task, runs it, reports how it went, and asks again, until
// the coordinator says the job is over or cannot be reached any more. It runs one task at a time.

import { invoke } from '../rpc/service.js'
import { isRpcError } from '../rpc/errors.js'
import type { Transport } from '../rpc/transport.js'
import { type Clock, sleep, systemClock } from '../base/clock.js'
import { AppRecordError, MapReduceError } from './errors.js'
import { KeyGroups } from './key-groups.js'
import { runMapTask } from './map-task.js'
import { decodeAssignment, encodeReport, reportTaskMethod, requestTaskMethod } from './protocol.js'
import { runReduceTask } from './reduce-task.js'
import type { Assignment, MapReduceApp, TaskAssignment, TaskReport } from './types.js'

/** What a worker runs and where it finds its coordinator; times in ms. */
export interface WorkerOptions {
  /** The app to run; every worker of a job must run the same one. */
  app: MapReduceApp
  /** A client transport; calls go to `coordinator`. */
  transport: Transport
  /** The coordinator's peer id or "host:port" on the transport. */
  coordinator: string
  /** Sent with every request and report; default transport.self. */
  workerId?: string
  /** Where intermediate and output files go (shared with the other workers). Default: the current directory. */
  directory?: string
  clock?: Clock
  /** Give up after this long without a reply from the coordinator. Default 3000 ms. */
  coordinatorTimeoutMs?: number
  /** Pause between failed calls to the coordinator. Default 100 ms. */
  retryIntervalMs?: number
  /** Per call; must exceed the coordinator's pollWaitMs. Default 10 000 ms. */
  callTimeoutMs?: number
}

/** Why {@link runWorker} returned. */
export type WorkerExitReason =
  /** The coordinator said the job is over. */
  | 'job-done'
  /** The coordinator stopped answering after it had been reached: it finished, or died. */
  | 'coordinator-gone'

/** How a worker's run ended. */
export interface WorkerResult {
  readonly reason: WorkerExitReason
  /** Tasks this worker ran, successful or not. */
  readonly tasks: number
}

/**
 * Runs until the job is over. Rejects with ERR_MR_COORDINATOR_UNREACHABLE if the coordinator never
 * answered within coordinatorTimeoutMs.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerResult> {
  const clock = options.clock ?? systemClock
  const workerId = options.workerId ?? options.transport.self
  const directory = options.directory ?? '.'
  const coordinatorTimeoutMs = options.coordinatorTimeoutMs ?? 3000
  const retryIntervalMs = options.retryIntervalMs ?? 100
  const callTimeoutMs = options.callTimeoutMs ?? 10_000
  let reached = false
  let lastReplyMs = clock.now()
  let firstFailure: string | null = null
  let tasks = 0
  // One table for all of this worker's tasks: most keys of a task were keys of the one before.
  const groups = new KeyGroups()
  for (;;) {
    let assignment: Assignment
    try {
      const reply = await invoke(options.transport, options.coordinator, requestTaskMethod, { workerId }, { timeoutMs: callTimeoutMs })
      assignment = decodeAssignment(reply)
      reached = true
      lastReplyMs = clock.now()
      firstFailure = null
    } catch (error) {
      if (!isRpcError(error)) throw error
      firstFailure ??= error.message
      if (clock.now() - lastReplyMs < coordinatorTimeoutMs) {
        await sleep(clock, retryIntervalMs)
        continue
      }
      if (reached) return { reason: 'coordinator-gone', tasks }
      throw new MapReduceError(
        'ERR_MR_COORDINATOR_UNREACHABLE',
        `cannot reach the coordinator at ${options.coordinator} within ${coordinatorTimeoutMs} ms (${firstFailure}); is it running, and is the address right?`,
      )
    }
    if (assignment.kind === 'exit') return { reason: 'job-done', tasks }
    if (assignment.kind === 'wait') continue
    tasks++
    const report = await runTask(options.app, assignment, directory, workerId, groups)
    try {
      await invoke(options.transport, options.coordinator, reportTaskMethod, encodeReport(report), { timeoutMs: callTimeoutMs })
    } catch (error) {
      // A lost report costs only a re-execution after the task timeout; the next request finds
      // out whether the coordinator is still there.
      if (!isRpcError(error)) throw error
    }
  }
}

/** Runs the task and turns its outcome, success or any failure, into a report. */
async function runTask(app: MapReduceApp, assignment: TaskAssignment, directory: string, workerId: string, groups: KeyGroups): Promise<TaskReport> {
  const base = { workerId, kind: assignment.kind, task: assignment.task, attempt: assignment.attempt }
  try {
    const counters = assignment.kind === 'map' ? await runMapTask(app, assignment, directory, groups) : await runReduceTask(app, assignment, directory, groups)
    return { ...base, ok: true, counters }
  } catch (error) {
    const badRecord = error instanceof AppRecordError ? error.record : null
    return { ...base, ok: false, error: error instanceof Error ? error.message : String(error), badRecord }
  }
}
