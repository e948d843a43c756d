// Which seeds a simulation test runs with: SEED=n replays one run exactly, SEEDS=n sweeps n seeds
// (from SEED_BASE, or from a base printed at start), and by default each test has one fixed seed
// derived from its name so that CI runs are repeatable. A test that can soak longer per seed reads
// its count the same way (e.g. CRASH_KILLS=n).

/** The environment variables that choose seeds; pass `process.env`. Empty counts as unset. */
export interface SeedEnvironment {
  /** Run only this seed: how a failure is replayed. Wins over SEEDS. */
  SEED?: string | undefined
  /** Run this many consecutive seeds per test, from SEED_BASE. */
  SEEDS?: string | undefined
  /** The first seed of a SEEDS sweep. Default: one taken from the time, printed on stderr so the sweep can be repeated. */
  SEED_BASE?: string | undefined
}

/** SEED, SEEDS or SEED_BASE is not a non-negative integer. */
export class SeedConfigError extends Error {
  readonly code = 'ERR_SEED_CONFIG'
}

/** 32-bit FNV-1a of a string: a stable default seed per test name. */
export function stableSeed(name: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

function parseCount(variable: string, text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SeedConfigError(`${variable} must be a non-negative integer, got "${text}"`)
  }
  return value
}

let sweepBase: number | undefined

/**
 * The seeds to run the test called `testName` with, given the environment: SEED's one, SEEDS'
 * sweep, or else the test's stableSeed. A sweep's base is chosen once per process, so every test
 * of a run sweeps the same seeds. Throws SeedConfigError for a value that is not a count.
 */
export function seedsFor(testName: string, env: SeedEnvironment): number[] {
  if (env.SEED !== undefined && env.SEED !== '') return [parseCount('SEED', env.SEED)]
  if (env.SEEDS !== undefined && env.SEEDS !== '') {
    const count = parseCount('SEEDS', env.SEEDS)
    if (sweepBase === undefined) {
      sweepBase = env.SEED_BASE ? parseCount('SEED_BASE', env.SEED_BASE) : Date.now() % 1_000_000_000
      process.stderr.write(`# sweeping ${count} seeds per test from SEED_BASE=${sweepBase}\n`)
    }
    return Array.from({ length: count }, (_, i) => (sweepBase as number) + i)
  }
  return [stableSeed(testName)]
}

/** A count a test reads from the environment (e.g. CRASH_KILLS=n to soak), or `fallback` if unset. */
export function countFrom(env: Readonly<Record<string, string | undefined>>, variable: string, fallback: number): number {
  const text = env[variable]
  return text === undefined || text === '' ? fallback : parseCount(variable, text)
}
