// The flags of a MapReduce job, shared by `lograft mr run` and `lograft mr coordinator`, and the
// settings they give. Kept apart from the coordinator itself: `mr run` reads its flags and starts
// its workers before it loads the rest.

import type { SchedulerTuning } from '../mapreduce/scheduler.js'
import { DEFAULT_SPLIT_BYTES } from '../mapreduce/input-splits.js'
import { UsageError, requireInteger } from './usage.js'

const MIB = 1024 * 1024

export const JOB_FLAGS = {
  reduce: { type: 'string' },
  dir: { type: 'string', default: '.' },
  'task-timeout-ms': { type: 'string' },
  'backup-tasks': { type: 'boolean', default: false },
  'backup-after-ms': { type: 'string' },
  'skip-bad-records': { type: 'boolean', default: false },
  'max-task-failures': { type: 'string' },
  'keep-intermediate': { type: 'boolean', default: false },
  'split-mib': { type: 'string' },
} as const

interface JobFlagValues {
  reduce?: string | undefined
  dir: string
  'task-timeout-ms'?: string | undefined
  'backup-tasks': boolean
  'backup-after-ms'?: string | undefined
  'skip-bad-records': boolean
  'max-task-failures'?: string | undefined
  'keep-intermediate': boolean
  'split-mib'?: string | undefined
}

export interface JobSettings {
  inputFiles: string[]
  /** The input files' sizes, once prepareJob has read them. */
  inputBytes?: number[]
  splitBytes: number
  nReduce: number
  directory: string
  keepIntermediate: boolean
  tuning: Partial<SchedulerTuning>
}

export function jobSettings(values: JobFlagValues, inputFiles: string[]): JobSettings {
  if (inputFiles.length === 0) throw new UsageError('mr needs at least one input file')
  const tuning: Partial<SchedulerTuning> = { backupTasks: values['backup-tasks'], skipBadRecords: values['skip-bad-records'] }
  if (values['task-timeout-ms'] !== undefined) tuning.taskTimeoutMs = requireInteger('task-timeout-ms', values['task-timeout-ms'], 0, 1)
  if (values['backup-after-ms'] !== undefined) tuning.backupAfterMs = requireInteger('backup-after-ms', values['backup-after-ms'], 0)
  if (values['max-task-failures'] !== undefined) tuning.maxTaskFailures = requireInteger('max-task-failures', values['max-task-failures'], 0, 1)
  return {
    inputFiles,
    splitBytes: splitBytesFlag(values['split-mib']),
    nReduce: requireInteger('reduce', values.reduce, 10, 1),
    directory: values.dir,
    keepIntermediate: values['keep-intermediate'],
    tuning,
  }
}

/** `--split-mib`: MiB to bytes. */
export function splitBytesFlag(text: string | undefined): number {
  return requireInteger('split-mib', text, DEFAULT_SPLIT_BYTES / MIB, 1) * MIB
}
