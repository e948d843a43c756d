// What `lograft mr run` and `lograft mr coordinator` share: the job flags, and running a
// coordinator on a transport until every output is final, with progress, clean-up and summary.

import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  type JobStatus,
  type SchedulerTuning,
  Coordinator,
  DEFAULT_SPLIT_BYTES,
  checkInputFiles,
  outputName,
  removeIntermediateFiles,
} from '../mapreduce/index.js'
import type { Transport } from '../rpc/transport.js'
import { systemClock } from '../base/clock.js'
import { type Logger, stderrLogger } from '../base/logger.js'
import { JobProgress, REFRESH_INTERVAL_MS } from './mr-progress.js'
import { formatSummary } from './mr-summary.js'
import { UsageError, requireInteger } from './usage.js'

const MIB = 1024 * 1024

/** Reports only errors: a worker that crashes or exits resets its connection, which is expected here. */
export const quietLogger: Logger = { error: stderrLogger.error, warn: () => {}, info: () => {} }

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

/** Checks the inputs (and notes their sizes, to split big ones) and makes the job's directory; run before anything is started. */
export async function prepareJob(settings: JobSettings): Promise<void> {
  settings.inputBytes = await checkInputFiles(settings.inputFiles)
  await mkdir(settings.directory, { recursive: true })
}

/**
 * Serves the job on `transport` until every output is final (or the job fails, or `abort`
 * rejects), prints progress and the summary, and removes the intermediate files.
 */
export async function coordinateJob(settings: JobSettings, transport: Transport, abort: Promise<never>): Promise<JobStatus> {
  const startMs = systemClock.now()
  const progress = new JobProgress(process.stdout, () => systemClock.now(), startMs)
  const coordinator = Coordinator.start({
    transport,
    inputFiles: settings.inputFiles,
    ...(settings.inputBytes ? { inputBytes: settings.inputBytes } : {}),
    splitBytes: settings.splitBytes,
    nReduce: settings.nReduce,
    ...settings.tuning,
    onEvent: (event, status) => progress.onEvent(event, status),
  })
  const refresher = setInterval(() => progress.refresh(coordinator.status()), REFRESH_INTERVAL_MS)
  try {
    const status = await Promise.race([coordinator.finished, abort])
    clearInterval(refresher)
    progress.finish(status)
    if (!settings.keepIntermediate) await removeIntermediateFiles(settings.directory, status.map.total, settings.nReduce)
    const outputs = Array.from({ length: settings.nReduce }, (_, task) => outputName(task))
    process.stdout.write(formatSummary(status, systemClock.now() - startMs, resolve(settings.directory), outputs))
    return status
  } catch (error) {
    progress.finish(coordinator.status())
    throw error
  } finally {
    clearInterval(refresher)
    coordinator.stop()
  }
}
