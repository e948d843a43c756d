// Seeded simulation tests for any TAP-style test framework (tap, node:test's t with a `test`
// method): each test runs once per seed (SEED=n replays one, SEEDS=n sweeps many, SEED_BASE=n picks
// them), a failure names its seed so it can be replayed exactly, and seeds that once found a bug
// (regression seeds) run on every default run so the bug stays fixed.

import { seedsFor } from '../sim/seeds.js'
import type { RunLimits } from '../sim/virtual-clock.js'
import { SimWorld } from '../sim/world.js'

/** What simTest needs of a test object: subtests (tap's Test has it). */
export interface SeededTestHost<Subtest> {
  /** Declares a subtest; what it returns is ignored. */
  test(name: string, body: (t: Subtest) => Promise<void>): unknown
}

/** What simTest needs of a subtest, to say which seed failed. */
export interface SeededSubtest {
  /** Fails the subtest with `message`. */
  fail(message: string): unknown
  /** Writes `message` as a diagnostic line. */
  comment(message: string): unknown
  /** False once the subtest has failed. */
  passing(): boolean
}

/** How simTest runs each seed; `maxVirtualMs` bounds each run. */
export interface SimTestOptions extends RunLimits {
  /** Record every network event in world.trace. */
  trace?: boolean
  /** Seeds that once found a bug: run on every default run too, so the bug stays fixed. */
  regressionSeeds?: readonly number[]
}

/**
 * Declares `name` as a subtest of `t` that runs `body` once per seed. For tests that build their
 * own worlds (to run one seed twice, say); everything else uses simTest.
 */
export function seededTest<Subtest extends SeededSubtest>(
  t: SeededTestHost<Subtest>,
  name: string,
  body: (seed: number, t: Subtest) => Promise<void>,
  regressionSeeds: readonly number[] = [],
): void {
  const chosen = process.env.SEED || process.env.SEEDS
  const seeds = chosen ? seedsFor(name, process.env) : [...seedsFor(name, process.env), ...regressionSeeds]
  for (const seed of seeds) {
    void t.test(`${name} (seed ${seed})`, async (st) => {
      try {
        await body(seed, st)
      } catch (error) {
        st.fail(`${name} failed with seed ${seed}; replay with SEED=${seed}: ${(error as Error).stack ?? String(error)}`)
      }
      if (st.passing() === false) st.comment(`${name} failed with seed ${seed}; replay with SEED=${seed}`)
    })
  }
}

/** Declares `name` as a subtest of `t` that runs `scenario` in a fresh SimWorld per seed, on virtual time. */
export function simTest<Subtest extends SeededSubtest>(
  t: SeededTestHost<Subtest>,
  name: string,
  scenario: (world: SimWorld, t: Subtest) => Promise<void>,
  options: SimTestOptions = {},
): void {
  seededTest(
    t,
    name,
    async (seed, st) => {
      const world = new SimWorld({ seed, trace: options.trace ?? false })
      await world.run(() => scenario(world, st), options)
    },
    options.regressionSeeds,
  )
}
