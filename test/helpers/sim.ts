// lograft/testing's seeded simulation helpers, typed for tap (subtests are tap Tests).

import type { Test } from 'tap'
import { type SimTestOptions, seededTest as seededTestFor, simTest as simTestFor } from '../../src/testing/sim-test.js'
import type { SimWorld } from '../../src/sim/world.js'

export function simTest(t: Test, name: string, scenario: (world: SimWorld, t: Test) => Promise<void>, options: SimTestOptions = {}): void {
  simTestFor<Test>(t, name, scenario, options)
}

export function seededTest(t: Test, name: string, body: (seed: number, t: Test) => Promise<void>, regressionSeeds: readonly number[] = []): void {
  seededTestFor<Test>(t, name, body, regressionSeeds)
}
