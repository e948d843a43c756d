// What `lograft mr run` and `lograft mr coordinator` share: running a coordinator on a transport
// until every output is final, with progress, clean-up and summary (their flags: mr-flags.ts).

import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type JobStatus, Coordinator, checkInputFiles, outputName, removeIntermediateFiles } from '../mapreduce/index.js'
import type { Transport } from '../rpc/transport.js'
import { systemClock } from '../base/clock.js'
import { JobProgress, REFRESH_INTERVAL_MS } from './mr-progress.js'
import { formatSummary } from './mr-summary.js'
import type { JobSettings } from './mr-flags.js'

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
