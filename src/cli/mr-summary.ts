// The summary printed when a MapReduce job ends: its tasks, re-executions, counters, time and
// output files.

import type { JobStatus } from '../mapreduce/index.js'

function counterLines(counters: Readonly<Record<string, number>>): string[] {
  const names = Object.keys(counters).sort()
  const width = Math.max(0, ...names.map((name) => name.length))
  return names.map((name) => `    ${name.padEnd(width)}  ${String(counters[name]).padStart(10)}`)
}

export function formatSummary(status: JobStatus, elapsedMs: number, directory: string, outputFiles: readonly string[]): string {
  const lines = [
    `job done in ${(elapsedMs / 1000).toFixed(2)} s`,
    `  tasks          ${status.map.total} map, ${status.reduce.total} reduce, run by ${status.workers} worker${status.workers === 1 ? '' : 's'}`,
    `  re-executions  ${status.reexecutions} (${status.timedOut} timed out, ${status.failed} failed, ${status.backups} backup${status.backups === 1 ? '' : 's'}; ` +
      `${status.duplicates} duplicate finish${status.duplicates === 1 ? '' : 'es'} ignored)`,
  ]
  if (status.skipped.length > 0) {
    lines.push(`  skipped        ${status.skipped.map((skip) => `${JSON.stringify(skip.record)} (${skip.kind} task ${skip.task})`).join(', ')}`)
  }
  lines.push('  counters', ...counterLines(status.counters.framework))
  if (Object.keys(status.counters.app).length > 0) lines.push('  app counters', ...counterLines(status.counters.app))
  const first = outputFiles[0] ?? ''
  const last = outputFiles[outputFiles.length - 1] ?? ''
  const range = outputFiles.length > 1 ? `${first} … ${last}` : first
  lines.push(`  output         ${range} (${outputFiles.length} file${outputFiles.length === 1 ? '' : 's'} in ${directory})`)
  return `${lines.join('\n')}\n`
}
