// What the clients of bench/kv.ts ask for: SETs of keys no one wrote before, or a read-mostly mix
// of GETs and SETs over a fixed set of keys written beforehand (preloadKeys), so every GET finds a
// value. Each client draws its requests from its own seeded generator, so a run's mix replays.

import { Rng } from '../src/base/rng.js'
import type { KvSystem } from './kv-system.js'

export type Workload =
  /** Every request a SET of a key no client wrote before. */
  | { readonly kind: 'set' }
  /** GETs (this fraction of requests) and SETs, each of a key drawn uniformly from the preloaded ones. */
  | { readonly kind: 'mixed'; readonly getFraction: number }

export type KvRequest = { readonly op: 'get'; readonly key: string } | { readonly op: 'set'; readonly key: string }

/** A client's requests, the next one per call. */
export type RequestSource = () => KvRequest

/** How many keys the mixed workloads read and write, all preloaded. */
export const PRELOADED_KEY_COUNT = 1000
const preloadedKeys = Array.from({ length: PRELOADED_KEY_COUNT }, (_, i) => `bench:preloaded:${i}`)

export function workloadLabel(workload: Workload): string {
  if (workload.kind === 'set') return 'SET'
  const getPercent = Math.round(workload.getFraction * 100)
  return `${getPercent}% GET / ${100 - getPercent}% SET`
}

/**
 * The requests of client number `client`, one per call: under 'set', keys `keyPrefix:client:n`;
 * under 'mixed', preloaded keys chosen by a generator seeded with `seed` and `client`.
 */
export function requestsOf(workload: Workload, client: number, keyPrefix: string, seed: number): RequestSource {
  if (workload.kind === 'set') {
    let sequence = 0
    return () => ({ op: 'set', key: `${keyPrefix}:${client}:${sequence++}` })
  }
  const rng = new Rng(seed * PRELOADED_KEY_COUNT + client)
  return () => ({ op: rng.chance(workload.getFraction) ? 'get' : 'set', key: rng.pick(preloadedKeys) })
}

/** Connections that write the preloaded keys, spread over the members. */
const PRELOAD_CLIENTS = 16

/** Writes `value` to every preloaded key of `system`, the keys dealt out over connections spread over its members. */
export async function preloadKeys(system: KvSystem, value: Buffer): Promise<void> {
  const clients = await Promise.all(Array.from({ length: PRELOAD_CLIENTS }, (_, i) => system.connect(i % system.memberCount)))
  try {
    await Promise.all(
      clients.map(async (client, index) => {
        for (let key = index; key < preloadedKeys.length; key += clients.length) await client.set(preloadedKeys[key] as string, value)
      }),
    )
  } finally {
    await Promise.all(clients.map((client) => client.close()))
  }
}
