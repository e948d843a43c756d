// How long the process's event loop was held up at most: perf_hooks' monitorEventLoopDelay, whose
// max is the longest a timer due every few ms waited past its time. A group server reports it in
// INFO's Stats section, so a benchmark can see, from inside each server, whether moving a shard
// held up everything else; CONFIG RESETSTAT starts a new window.

import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'

/** How often the monitor's timer is due: the finest stall it can see. */
const RESOLUTION_MS = 10
const NS_PER_MS = 1e6

export class EventLoopStalls {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })

  constructor() {
    this.histogram.enable()
  }

  /** The longest delay of the event loop since the start or the last reset, in ms (0 before any). */
  maxMs(): number {
    // The histogram starts its max at the lowest trackable value (1 ns) before it records anything.
    return this.histogram.count === 0 ? 0 : this.histogram.max / NS_PER_MS
  }

  reset(): void {
    this.histogram.reset()
  }

  stop(): void {
    this.histogram.disable()
  }
}
