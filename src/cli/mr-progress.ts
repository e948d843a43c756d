// Shows a MapReduce job as it runs: on a terminal one line redrawn in place (a bar for map and
// for reduce tasks, attempts running, re-executions, elapsed time); elsewhere plain lines, one per
// task finished, timed out or failed, so a log file reads as the job's history.

import type { JobStatus, SchedulerEvent } from '../mapreduce/index.js'

const BAR_WIDTH = 20
/** A terminal line is redrawn at most this often. */
const REDRAW_INTERVAL_MS = 100
/** …and at least this often, from refresh(). */
export const REFRESH_INTERVAL_MS = 250

export interface ProgressStream {
  write(text: string): unknown
  readonly isTTY?: boolean
}

function bar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH)
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

export class JobProgress {
  private lastDrawMs = Number.NEGATIVE_INFINITY
  private drawn = false

  constructor(
    private readonly out: ProgressStream,
    private readonly now: () => number,
    private readonly startMs: number,
  ) {}

  onEvent(event: SchedulerEvent, status: JobStatus): void {
    if (this.out.isTTY) {
      const nowMs = this.now()
      if (event.type === 'phase' || nowMs - this.lastDrawMs >= REDRAW_INTERVAL_MS) this.draw(status, nowMs)
      return
    }
    const line = this.describe(event, status)
    if (line !== null) this.out.write(`${seconds(this.now() - this.startMs).padStart(7)}  ${line}\n`)
  }

  /** Redraws the terminal line (its clock moves even while no task starts or ends). */
  refresh(status: JobStatus): void {
    if (this.out.isTTY) this.draw(status, this.now())
  }

  /** Leaves the terminal line in its final state, followed by a newline. */
  finish(status: JobStatus): void {
    if (!this.out.isTTY) return
    this.draw(status, this.now())
    if (this.drawn) this.out.write('\n')
  }

  private draw(status: JobStatus, nowMs: number): void {
    this.lastDrawMs = nowMs
    this.drawn = true
    const running = status.map.running + status.reduce.running
    const text =
      `map ${bar(status.map.done, status.map.total)} ${status.map.done}/${status.map.total}  ` +
      `reduce ${bar(status.reduce.done, status.reduce.total)} ${status.reduce.done}/${status.reduce.total}  ` +
      `running ${running}  re-executed ${status.reexecutions}  ${seconds(nowMs - this.startMs)}`
    this.out.write(`\r\x1b[2K${text}`)
  }

  private describe(event: SchedulerEvent, status: JobStatus): string | null {
    switch (event.type) {
      case 'assigned':
        return event.backup ? `${event.kind} task ${event.task}: backup attempt ${event.attempt} to ${event.workerId}` : null
      case 'completed': {
        const progress = event.kind === 'map' ? status.map : status.reduce
        return `${event.kind} task ${event.task} done by ${event.workerId} in ${seconds(event.durationMs)} (${event.kind} ${progress.done}/${progress.total})`
      }
      case 'timed-out':
        return `${event.kind} task ${event.task}: attempt ${event.attempt} on ${event.workerId} timed out; handing it to another worker`
      case 'failed':
        return `${event.kind} task ${event.task}: attempt ${event.attempt} on ${event.workerId} failed: ${event.error}`
      case 'skipping':
        return `${event.kind} task ${event.task}: skipping bad record ${JSON.stringify(event.record)} from now on`
      case 'phase':
        return event.phase === 'reduce' ? 'all map tasks done; reducing' : event.phase === 'done' ? 'all reduce tasks done' : `job ${event.phase}`
    }
  }
}
