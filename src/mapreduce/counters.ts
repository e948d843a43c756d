// Counters of one task attempt: the framework's (records in and out of each stage, records
// skipped) and the app's own, which it bumps through the TaskContext it is handed.

import { MapReduceError } from './errors.js'
import type { Counters, TaskContext } from './types.js'

/** The framework's counters, as named in the job summary. */
export const FRAMEWORK_COUNTERS = {
  mapInputFiles: 'map input files',
  mapOutputRecords: 'map output records',
  combineInputRecords: 'combine input records',
  combineOutputRecords: 'combine output records',
  reduceInputGroups: 'reduce input groups',
  reduceInputRecords: 'reduce input records',
  reduceOutputRecords: 'reduce output records',
  skippedRecords: 'skipped records',
} as const

/** Distinct app counters one attempt may use (Hadoop's default limit). */
export const MAX_APP_COUNTERS = 120

export class CounterSet implements TaskContext {
  private readonly framework = new Map<string, number>()
  private readonly app = new Map<string, number>()

  increment(name: string, by = 1): void {
    if (typeof name !== 'string' || !Number.isSafeInteger(by)) {
      throw new TypeError(`increment(name, by) needs a string name and an integer, got ${JSON.stringify(name)}, ${String(by)}`)
    }
    if (!this.app.has(name) && this.app.size >= MAX_APP_COUNTERS) {
      throw new MapReduceError('ERR_MR_TOO_MANY_COUNTERS', `the app uses more than ${MAX_APP_COUNTERS} counters; "${name}" is one too many`)
    }
    this.app.set(name, (this.app.get(name) ?? 0) + by)
  }

  add(name: (typeof FRAMEWORK_COUNTERS)[keyof typeof FRAMEWORK_COUNTERS], by: number): void {
    this.framework.set(name, (this.framework.get(name) ?? 0) + by)
  }

  snapshot(): Counters {
    return { framework: Object.fromEntries(this.framework), app: Object.fromEntries(this.app) }
  }
}
