// The closed-loop SET load of bench/kv.ts, the same for every system: each client owns one
// connection and sends SET, awaits the reply, and sends the next, over keys no one else writes.
// Only requests that finish inside the measured window count, so warm-up and the drain at the end
// (clients finishing their last request) stay out of the numbers.

/** One client connection; `set` resolves once the system acknowledged the write. */
export interface SetClient {
  set(key: string, value: Buffer): Promise<void>
  close(): Promise<void>
}

/** A running cluster under test, whose members are numbered 0..memberCount-1. */
export interface KvSystem {
  readonly name: string
  readonly memberCount: number
  /** The member that leads now. */
  leader(): Promise<number>
  connect(member: number): Promise<SetClient>
  stop(): Promise<void>
}

export interface LoadOptions {
  valueBytes: number
  /** Requests finishing in the first `warmupMs` are not counted. */
  warmupMs: number
  measureMs: number
  /** Prefixes every key, so runs never overwrite each other's keys. */
  keyPrefix: string
}

/** What one window of load saw; windows of the same row add up with `combine`. */
export interface Samples {
  latenciesMs: number[]
  measuredMs: number
  /** Failed requests; they count in neither throughput nor latency. */
  errors: number
  firstError: string | null
}

export interface Measurement {
  setsPerSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
  firstError: string | null
}

/** A client that fails this often in one window is broken, not slow: the window stops with its error. */
const MAX_ERRORS_PER_CLIENT = 100

export async function measureSets(clients: readonly SetClient[], options: LoadOptions): Promise<Samples> {
  const value = Buffer.alloc(options.valueBytes, 0x5a)
  const samples: Samples = { latenciesMs: [], measuredMs: options.measureMs, errors: 0, firstError: null }
  const windowStartMs = performance.now() + options.warmupMs
  const windowEndMs = windowStartMs + options.measureMs
  const inWindow = (ms: number): boolean => ms >= windowStartMs && ms <= windowEndMs
  const run = async (client: SetClient, index: number): Promise<void> => {
    let clientErrors = 0
    for (let sequence = 0; performance.now() < windowEndMs; sequence++) {
      const sentMs = performance.now()
      try {
        await client.set(`${options.keyPrefix}:${index}:${sequence}`, value)
      } catch (error) {
        if (++clientErrors > MAX_ERRORS_PER_CLIENT) throw error
        if (inWindow(performance.now())) {
          samples.errors++
          samples.firstError ??= error instanceof Error ? error.message : String(error)
        }
        continue
      }
      const doneMs = performance.now()
      if (inWindow(doneMs)) samples.latenciesMs.push(doneMs - sentMs)
    }
  }
  await Promise.all(clients.map(run))
  return samples
}

export function summarize(windows: readonly Samples[]): Measurement {
  const sorted = windows.flatMap((window) => window.latenciesMs).sort((a, b) => a - b)
  const measuredMs = windows.reduce((total, window) => total + window.measuredMs, 0)
  return {
    setsPerSecond: (sorted.length * 1000) / measuredMs,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    errors: windows.reduce((total, window) => total + window.errors, 0),
    firstError: windows.find((window) => window.firstError !== null)?.firstError ?? null,
  }
}

/** The `fraction` quantile of `sorted` (ascending), by nearest rank. */
function quantile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? NaN
}
