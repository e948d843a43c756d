// The lab's map-parallelism probe: each map reports which worker ran it, when, and how many
// workers were running maps at the same moment.

import type { KeyValue } from '../types.js'
import { nparallel } from './lab-support.js'

export function map(): KeyValue[] {
  const startedSeconds = Date.now() / 1000
  const running = nparallel('map')
  return [
    { key: `times-${process.pid}`, value: startedSeconds.toFixed(1) },
    { key: `parallel-${process.pid}`, value: String(running) },
  ]
}

export function reduce(_key: string, values: string[]): string {
  return [...values].sort().join(' ')
}
