// The coordinator: a thin shell around the Scheduler. It serves the MapReduce RPC service on a
// Transport, holds a worker's request for a while when no task is free (so a task freed by a
// timeout or a finished phase goes out at once instead of at the next poll), and ticks the
// scheduler on its clock so silent attempts time out.

import { type Clock, type TimerHandle, systemClock } from '../base/clock.js'
import { handler } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import { MapReduceError } from './errors.js'
import { COORDINATOR_SERVICE, decodeReport, encodeAssignment, reportTaskMethod, requestTaskMethod } from './protocol.js'
import { type JobStatus, Scheduler, type SchedulerEvent, type SchedulerOptions } from './scheduler.js'
import type { Assignment } from './types.js'

/** The job (input files, nReduce, tuning) and how the {@link Coordinator} serves it; times in ms. */
export interface CoordinatorOptions extends SchedulerOptions {
  /** The coordinator serves its RPCs here; the caller owns it and closes it after the job. */
  transport: Transport
  clock?: Clock
  /** A request for a task waits this long for one before the worker is told to ask again. Default 1000 ms. */
  pollWaitMs?: number
  /** How often silent attempts are checked for timeouts. Default 100 ms. */
  tickIntervalMs?: number
  /** Requests held at once; past this a request is told to wait at once. Default 4096. */
  maxParkedRequests?: number
  /** Called for every scheduler event, with the status after it. */
  onEvent?: (event: SchedulerEvent, status: JobStatus) => void
}

interface ParkedRequest {
  readonly workerId: string
  readonly timer: TimerHandle
  readonly resolve: (assignment: Assignment) => void
}

/**
 * The coordinator of one MapReduce job: serves the MapReduce RPC service on a Transport, hands tasks
 * to workers as they ask ({@link runWorker}), re-executes attempts that time out or fail, and
 * settles `finished` when the job is done or has failed. A worker's request is held for a while
 * when no task is free, so a task freed by a timeout goes out at once instead of at the next poll.
 */
export class Coordinator {
  /** Resolves with the final status once every output is final; rejects with ERR_MR_JOB_FAILED. */
  readonly finished: Promise<JobStatus>
  private readonly scheduler: Scheduler
  private readonly clock: Clock
  private readonly pollWaitMs: number
  private readonly tickIntervalMs: number
  private readonly maxParkedRequests: number
  private readonly onEvent: CoordinatorOptions['onEvent']
  private readonly parked: ParkedRequest[] = []
  private tickTimer: TimerHandle | null = null
  private settle: { resolve: (status: JobStatus) => void; reject: (error: Error) => void } | null = null

  private constructor(options: CoordinatorOptions) {
    this.scheduler = new Scheduler(options)
    this.clock = options.clock ?? systemClock
    this.pollWaitMs = options.pollWaitMs ?? 1000
    this.tickIntervalMs = options.tickIntervalMs ?? 100
    this.maxParkedRequests = options.maxParkedRequests ?? 4096
    this.onEvent = options.onEvent
    this.finished = new Promise((resolve, reject) => (this.settle = { resolve, reject }))
    // A caller that only watches status() must not see an unhandled rejection.
    this.finished.catch(() => {})
  }

  /** Creates the coordinator and starts serving on `options.transport`. */
  static start(options: CoordinatorOptions): Coordinator {
    const coordinator = new Coordinator(options)
    options.transport.register(COORDINATOR_SERVICE, {
      [requestTaskMethod.name]: handler(requestTaskMethod, async (request) => encodeAssignment(await coordinator.requestTask(request.workerId))),
      [reportTaskMethod.name]: handler(reportTaskMethod, (message) => {
        const report = decodeReport(message)
        if (report) coordinator.scheduler.report(report, coordinator.clock.now())
        coordinator.afterChange()
        return {}
      }),
    })
    coordinator.scheduleTick()
    return coordinator
  }

  /** The job's progress now. */
  status(): JobStatus {
    return this.scheduler.status()
  }

  /** Stops ticking and tells held requests to exit. The job's outcome is unaffected. */
  stop(): void {
    if (this.tickTimer !== null) this.clock.clearTimeout(this.tickTimer)
    this.tickTimer = null
    for (const request of this.parked.splice(0)) {
      this.clock.clearTimeout(request.timer)
      request.resolve({ kind: 'exit' })
    }
  }

  private requestTask(workerId: string): Promise<Assignment> | Assignment {
    const assignment = this.scheduler.request(workerId, this.clock.now())
    this.afterChange()
    if (assignment.kind !== 'wait' || this.parked.length >= this.maxParkedRequests) return assignment
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        const index = this.parked.findIndex((request) => request.timer === timer)
        if (index >= 0) this.parked.splice(index, 1)
        resolve({ kind: 'wait' })
      }, this.pollWaitMs)
      this.parked.push({ workerId, timer, resolve })
    })
  }

  private scheduleTick(): void {
    this.tickTimer = this.clock.setTimeout(() => {
      this.scheduler.tick(this.clock.now())
      this.afterChange()
      if (this.tickTimer !== null && (this.scheduler.phase === 'map' || this.scheduler.phase === 'reduce')) this.scheduleTick()
    }, this.tickIntervalMs)
  }

  /** Hands freed tasks to held requests, publishes the scheduler's events, and settles the job. */
  private afterChange(): void {
    while (this.parked.length > 0) {
      const next = this.parked[0] as ParkedRequest
      const assignment = this.scheduler.request(next.workerId, this.clock.now())
      if (assignment.kind === 'wait') break
      this.parked.shift()
      this.clock.clearTimeout(next.timer)
      next.resolve(assignment)
    }
    const events = this.scheduler.takeEvents()
    if (events.length > 0 && this.onEvent) {
      const status = this.scheduler.status()
      for (const event of events) this.onEvent(event, status)
    }
    const phase = this.scheduler.phase
    if (this.settle && (phase === 'done' || phase === 'failed')) {
      const { resolve, reject } = this.settle
      this.settle = null
      if (this.tickTimer !== null) this.clock.clearTimeout(this.tickTimer)
      this.tickTimer = null
      const status = this.scheduler.status()
      if (phase === 'done') resolve(status)
      else reject(new MapReduceError('ERR_MR_JOB_FAILED', `the job failed: ${status.failure ?? 'unknown reason'}`))
    }
  }
}
