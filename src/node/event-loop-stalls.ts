// How long the process's event loop was held up at most, measured two ways:
// - the delay: perf_hooks' monitorEventLoopDelay, whose max is the longest a timer due every few ms
//   waited past its time. It counts every cause alike: work of ours that ran long, and time the
//   operating system left the process waiting for a CPU, which on a machine with more busy processes
//   than cores can be tens of milliseconds with no long work at all;
// - the busy time: the most CPU time the main thread used between two checks of a timer due every
//   few ms (Linux's per-thread schedstat). No single piece of work on the event loop ran longer
//   than that, so it bounds our own longest task whatever the scheduler did.
// A group server reports both in INFO's Stats section, so a benchmark can see, from inside each
// server, whether moving a shard held up everything else, and why; CONFIG RESETSTAT starts a new
// window.

import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'
import { type MainThreadCpu, openMainThreadCpu } from './main-thread-cpu.js'

/** How often the monitors' timers are due: the finest stall they can see. */
const RESOLUTION_MS = 10
const NS_PER_MS = 1e6

export class EventLoopStalls {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  private cpu: MainThreadCpu | null = null
  private busyCheck: NodeJS.Timeout | null = null
  private lastRunNs = 0
  private maxBusyNs = 0

  /** Starts both measures; until then (and after stop) nothing holds a timer or a file. */
  start(): void {
    this.histogram.enable()
    const cpu = openMainThreadCpu()
    if (!cpu) return
    this.cpu = cpu
    this.lastRunNs = cpu.runNs()
    this.busyCheck = setInterval(() => {
      const runNs = cpu.runNs()
      this.maxBusyNs = Math.max(this.maxBusyNs, runNs - this.lastRunNs)
      this.lastRunNs = runNs
    }, RESOLUTION_MS)
    // The check measures the process; it must not keep it alive.
    this.busyCheck.unref()
  }

  /** The longest delay of the event loop since the start or the last reset, in ms (0 before any). */
  maxMs(): number {
    // The histogram starts its max at the lowest trackable value (1 ns) before it records anything.
    return this.histogram.count === 0 ? 0 : this.histogram.max / NS_PER_MS
  }

  /**
   * The most CPU time the main thread used between two checks since the start or the last reset, in
   * ms: an upper bound on the longest single piece of work on the event loop. Null before start(),
   * and where the system does not keep CPU time per thread.
   */
  maxBusyMs(): number | null {
    return this.cpu ? this.maxBusyNs / NS_PER_MS : null
  }

  /** Starts a new window. The delay's first interval after it goes unmeasured: Node's histogram starts over from the next tick. */
  reset(): void {
    this.histogram.reset()
    this.maxBusyNs = 0
    if (this.cpu) this.lastRunNs = this.cpu.runNs()
  }

  stop(): void {
    this.histogram.disable()
    if (this.busyCheck) clearInterval(this.busyCheck)
    this.busyCheck = null
    this.cpu?.close()
    this.cpu = null
  }
}
