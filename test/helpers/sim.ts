// Seeded simulation tests for tap: each test runs once per seed (SEED=n replays one, SEEDS=n
// sweeps many) and a failure names its seed so it can be replayed exactly.

import type { Test } from 'tap'
import { seedsFor } from '../../src/sim/seeds.js'
import type { RunLimits } from '../../src/sim/virtual-clock.js'
import { SimWorld } from '../../src/sim/world.js'

export interface SimTestOptions extends RunLimits {
  trace?: boolean
  /** Seeds that once found a bug: run on every default run too, so the bug stays fixed. */
  regressionSeeds?: readonly number[]
}

/**
 * Declares `name` as a subtest of `t` that runs `body` once per seed. For tests that build their
 * own worlds (e.g. to run one seed twice); everything else uses simTest.
 */
export function seededTest(t: Test, name: string, body: (seed: number, t: Test) => Promise<void>, regressionSeeds: readonly number[] = []): void {
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

/** Declares `name` as a subtest of `t` that runs `scenario` in a fresh SimWorld per seed. */
export function simTest(
  t: Test,
  name: string,
  scenario: (world: SimWorld, t: Test) => Promise<void>,
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
