// The closed-loop load of bench/kv.ts, the same for every system: each client owns one connection
// and sends a request (kv-workload.ts says which), awaits the reply, and sends the next. Only
// requests that finish inside the measured window count, so warm-up and the drain at the end
// (clients finishing their last request) stay out of the numbers; the members' CPU time is read as
// the window opens and as it closes, so it is charged to exactly the requests counted.

import type { CpuProbe } from './process-cpu.js'
import type { KvClient } from './kv-system.js'
import { type RequestSource, type Workload, requestsOf } from './kv-workload.js'
import { quantile } from './stats.js'

export interface LoadOptions {
  workload: Workload
  valueBytes: number
  /** Requests finishing in the first `warmupMs` are not counted. */
  warmupMs: number
  measureMs: number
  /** Prefixes every key of the 'set' workload, so runs never overwrite each other's keys. */
  keyPrefix: string
  /** Seeds the 'mixed' workload's choices of operation and key. */
  seed: number
  /** The system's members' CPU time; without it a window has no CPU figure. */
  cpu?: CpuProbe | null
}

/** What one window of load saw; windows of the same row add up with `summarize`. */
export interface Samples {
  latenciesMs: number[]
  measuredMs: number
  /** The members' CPU time during the window, or null without a probe. */
  cpuMs: number | null
  /** Failed requests; they count in neither throughput nor latency. */
  errors: number
  firstError: string | null
}

export interface Measurement {
  opsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** The members' CPU time per completed request, or null when it was not read. */
  cpuMsPerOp: number | null
  errors: number
  firstError: string | null
}

export class KvLoadError extends Error {
  readonly code = 'ERR_KV_LOAD'
}

/** A client that fails this often in one window is broken, not slow: the window stops with its error. */
const MAX_ERRORS_PER_CLIENT = 100

export async function measureLoad(clients: readonly KvClient[], options: LoadOptions): Promise<Samples> {
  const value = Buffer.alloc(options.valueBytes, 0x5a)
  const cpu = options.cpu ?? null
  const samples: Samples = { latenciesMs: [], measuredMs: 0, cpuMs: null, errors: 0, firstError: null }
  let phase: 'warm-up' | 'measured' | 'over' = 'warm-up'
  let closing: NodeJS.Timeout | undefined
  const opening = setTimeout(() => {
    const openedMs = performance.now()
    const openedCpuMs = cpu?.() ?? 0
    phase = 'measured'
    closing = setTimeout(() => {
      samples.cpuMs = cpu ? cpu() - openedCpuMs : null
      samples.measuredMs = performance.now() - openedMs
      phase = 'over'
    }, options.measureMs)
  }, options.warmupMs)
  const send = async (client: KvClient, nextRequest: RequestSource): Promise<void> => {
    const request = nextRequest()
    if (request.op === 'set') return client.set(request.key, value)
    const found = await client.get(request.key)
    if (found === null) throw new KvLoadError(`GET ${request.key} found no value; were the keys preloaded?`)
    if (found.length !== value.length) throw new KvLoadError(`GET ${request.key} read ${found.length} bytes, not the ${value.length} written`)
  }
  const run = async (client: KvClient, index: number): Promise<void> => {
    const nextRequest = requestsOf(options.workload, index, options.keyPrefix, options.seed)
    let clientErrors = 0
    while (phase !== 'over') {
      const sentMs = performance.now()
      try {
        await send(client, nextRequest)
      } catch (error) {
        if (++clientErrors > MAX_ERRORS_PER_CLIENT) throw error
        if (phase === 'measured') {
          samples.errors++
          samples.firstError ??= error instanceof Error ? error.message : String(error)
        }
        continue
      }
      if (phase === 'measured') samples.latenciesMs.push(performance.now() - sentMs)
    }
  }
  try {
    await Promise.all(clients.map(run))
  } finally {
    clearTimeout(opening)
    clearTimeout(closing)
  }
  return samples
}

export function summarize(windows: readonly Samples[]): Measurement {
  const sorted = windows.flatMap((window) => window.latenciesMs).sort((a, b) => a - b)
  const measuredMs = windows.reduce((total, window) => total + window.measuredMs, 0)
  const cpuMs = windows.every((window) => window.cpuMs !== null) ? windows.reduce((total, window) => total + (window.cpuMs ?? 0), 0) : null
  return {
    opsPerSecond: (sorted.length * 1000) / measuredMs,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    cpuMsPerOp: cpuMs === null || sorted.length === 0 ? null : cpuMs / sorted.length,
    errors: windows.reduce((total, window) => total + window.errors, 0),
    firstError: windows.find((window) => window.firstError !== null)?.firstError ?? null,
  }
}
