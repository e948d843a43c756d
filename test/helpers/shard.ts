// Shared pieces of the shardkv lab tests.

import type { Test } from 'tap'
import type { SimWorld } from '../../src/sim/world.js'
import type { ShardClerk } from '../../src/shard/shard-clerk.js'

/** The lab's randstring: `length` random characters. */
export function randomString(world: SimWorld, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[world.rng.int(alphabet.length)]
  return out
}

/** The lab's check(): Get(key) returns `expected`; a mismatch fails the test. */
export async function check(t: Test, clerk: ShardClerk, key: string, expected: string): Promise<void> {
  const value = await clerk.get(key)
  if (value !== expected) t.fail(`Get(${key}): expected ${JSON.stringify(expected)}, received ${JSON.stringify(value)}`)
}

/** Keys "0".."n-1" (spread over many shards) and the value each should hold. */
export interface KeyedValues {
  keys: string[]
  values: string[]
}

/** Puts n random values under keys "0".."n-1"; returns keys and values. */
export async function putKeys(world: SimWorld, clerk: ShardClerk, n: number, valueLength: number): Promise<KeyedValues> {
  const keys: string[] = []
  const values: string[] = []
  for (let i = 0; i < n; i++) {
    keys.push(String(i))
    values.push(randomString(world, valueLength))
    await clerk.put(keys[i] as string, values[i] as string)
  }
  return { keys, values }
}

/** Checks every key holds its value. */
export async function checkAll(t: Test, clerk: ShardClerk, data: KeyedValues): Promise<void> {
  for (let i = 0; i < data.keys.length; i++) await check(t, clerk, data.keys[i] as string, data.values[i] as string)
}

/** For every key: checks its value, then appends `length` random characters to it. */
export async function checkAndAppend(t: Test, world: SimWorld, clerk: ShardClerk, data: KeyedValues, length: number): Promise<void> {
  for (let i = 0; i < data.keys.length; i++) {
    await check(t, clerk, data.keys[i] as string, data.values[i] as string)
    const x = randomString(world, length)
    await clerk.append(data.keys[i] as string, x)
    data.values[i] += x
  }
}
