// One run of redis-benchmark (Debian's redis-tools) for bench/redis.ts: one test against one
// RESP port, its --csv output read into requests/s and p50 latency, or the error that stopped it.
//
// redis-benchmark 7 exits 1 on the first error reply ("Error from server: ..." on stderr; -e has no
// effect any more), and its numbers would count errors as replies otherwise, so any error line,
// non-zero exit or missing row makes the run a failure with that text, never a number. A run that
// outlives its timeout (a server that stops answering a pipeline) is killed and fails too.

import { spawn, spawnSync } from 'node:child_process'

export interface BenchmarkSettings {
  requests: number
  clients: number
  pipeline: number
  valueBytes: number
  timeoutMs: number
}

export type BenchmarkOutcome =
  { kind: 'measured'; requestsPerSecond: number; p50Ms: number; warnings: string[] } | { kind: 'failed'; error: string; warnings: string[] }

/** The CSV header redis-benchmark 7 prints; the columns are read by name from it. */
const RPS_COLUMN = 'rps'
const P50_COLUMN = 'p50_latency_ms'
/** What redis-benchmark prints when the server's CONFIG GET fails: it goes on without. */
const WARNING_LINE = /^WARNING: /
const ERROR_LINE = /^(Error|Could not connect|Server closed)/i
/** Keep only the end of the output, for failure messages. */
const MAX_OUTPUT_CHARS = 64_000
const KILL_GRACE_MS = 2000

/** redis-benchmark's version line, or null when it is not on PATH. */
export function redisBenchmarkVersion(): string | null {
  const result = spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : null
}

/** Runs `redis-benchmark -t <test>` against host:port; `signal` kills it (the bench is stopping). */
export async function runRedisBenchmark(host: string, port: number, test: string, settings: BenchmarkSettings, signal: AbortSignal): Promise<BenchmarkOutcome> {
  const args = [
    ...['-h', host, '-p', String(port), '-t', test],
    ...['-n', String(settings.requests), '-c', String(settings.clients), '-P', String(settings.pipeline), '-d', String(settings.valueBytes)],
    '--csv',
  ]
  const run = await spawnWithTimeout(args, settings.timeoutMs, signal)
  const lines = `${run.stdout}\n${run.stderr}`.split(/\r?\n|\r/).map((line) => line.trim())
  const warnings = lines.filter((line) => WARNING_LINE.test(line))
  const errorLine = lines.find((line) => ERROR_LINE.test(line))
  if (run.timedOut) return { kind: 'failed', error: `timed out after ${settings.timeoutMs} ms${errorLine ? `: ${errorLine}` : ''}`, warnings }
  if (errorLine) return { kind: 'failed', error: errorLine.replace(/^Error from server: /, ''), warnings }
  if (run.exitCode !== 0) {
    const lastLine = lines.filter((line) => line !== '').at(-1) ?? 'no output'
    return { kind: 'failed', error: `redis-benchmark exited with ${run.exitCode ?? run.signal}: ${lastLine}`, warnings }
  }
  const row = csvRow(run.stdout)
  if (!row) return { kind: 'failed', error: `no result row in redis-benchmark's output: ${run.stdout.trim() || 'empty'}`, warnings }
  const requestsPerSecond = Number(row.get(RPS_COLUMN))
  const p50Ms = Number(row.get(P50_COLUMN))
  if (!Number.isFinite(requestsPerSecond) || !Number.isFinite(p50Ms) || requestsPerSecond <= 0) {
    return { kind: 'failed', error: `unreadable result row: ${[...row.values()].join(',')}`, warnings }
  }
  return { kind: 'measured', requestsPerSecond, p50Ms, warnings }
}

/** The one data row of `--csv` output (one test per run), by the header's column names. */
function csvRow(stdout: string): Map<string, string> | null {
  const csvLines = stdout.split(/\r?\n/).filter((line) => line.startsWith('"'))
  const [header, row] = csvLines.map((line) => line.split(',').map((field) => field.replace(/^"|"$/g, '')))
  if (!header || !row || row.length !== header.length) return null
  return new Map(header.map((name, column) => [name, row[column] ?? '']))
}

interface Run {
  stdout: string
  stderr: string
  exitCode: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
}

function spawnWithTimeout(args: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<Run> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted()
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-MAX_OUTPUT_CHARS)))
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-MAX_OUTPUT_CHARS)))
    let timedOut = false
    const kill = (): void => {
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref()
    }
    const timer = setTimeout(() => {
      timedOut = true
      kill()
    }, timeoutMs)
    signal.addEventListener('abort', kill, { once: true })
    child.once('error', (error) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', kill)
      reject(error)
    })
    child.once('close', (exitCode, exitSignal) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', kill)
      resolve({ stdout, stderr, exitCode, signal: exitSignal, timedOut })
    })
  })
}
