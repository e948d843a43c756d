// The kvraft lab's generic test and speed test, shared by the 4A and 4B suites.

import type { Test } from 'tap'
import type { SimWorld } from '../../src/sim/world.js'
import { sleep } from '../../src/base/clock.js'
import { KvCluster, type KvClusterOptions } from '../../src/testing/kv-cluster.js'
import { append, appendValue, checkClientAppends, checkLinearizable, get, newHistory, put } from './kv.js'

export const ELECTION_TIMEOUT_MS = 1000

/** Clients loop as fast as replies come: a little latency lets virtual time advance meanwhile. */
export const KV_LATENCY_MS: readonly [number, number] = [3, 10]

export interface GenericOptions {
  clients: number
  servers: number
  unreliable: boolean
  crash: boolean
  partitions: boolean
  /** Snapshot threshold; -1: no snapshots, and none may appear. */
  maxRaftState: number
  randomKeys: boolean
}

export function clusterOptions(options: { servers: number; unreliable: boolean; maxRaftState: number }): KvClusterOptions {
  return {
    servers: options.servers,
    unreliable: options.unreliable,
    latencyMs: KV_LATENCY_MS,
    ...(options.maxRaftState > 0 ? { maxRaftStateBytes: options.maxRaftState } : {}),
  }
}

/** Repartitions the servers at random every election timeout or so, until told to stop. */
async function partitioner(world: SimWorld, cluster: KvCluster, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    const sides = cluster.all().map(() => world.rng.int(2))
    cluster.partition(
      cluster.all().filter((i) => sides[i] === 0),
      cluster.all().filter((i) => sides[i] === 1),
    )
    await sleep(world.clock, ELECTION_TIMEOUT_MS + world.rng.int(200))
  }
}

/**
 * The lab's GenericTest: clients append and get for 5 s per iteration (3 iterations), with the
 * network partitioned, servers crashed and restarted, or messages lost as asked; then every
 * client's appends are checked, the raft state size is checked, and the whole history is checked
 * for linearizability.
 */
export async function genericTest(world: SimWorld, t: Test, options: GenericOptions): Promise<void> {
  const cluster = await KvCluster.create(world, clusterOptions(options))
  const history = newHistory()
  const checker = cluster.makeClient(cluster.all())
  for (let iteration = 0; iteration < 3; iteration++) {
    let clientsDone = false
    let partitionerDone = false
    const clients = Array.from({ length: options.clients }, async (_, client) => {
      const clerk = cluster.makeClient(cluster.all())
      let j = 0
      let last = ''
      if (!options.randomKeys) await put(world, clerk, String(client), last, history, client)
      while (!clientsDone) {
        const key = options.randomKeys ? String(world.rng.int(options.clients)) : String(client)
        const value = appendValue(client, j)
        if (world.rng.int(1000) < 500) {
          await append(world, clerk, key, value, history, client, false)
          if (!options.randomKeys) last += value
          j++
        } else if (options.randomKeys && world.rng.int(1000) < 100) {
          await put(world, clerk, key, value, history, client)
          j++
        } else {
          const seen = await get(world, clerk, key, history, client)
          if (!options.randomKeys && seen !== last) t.fail(`get(${key}) returned a wrong value: wanted ${last.length} bytes, got ${seen.length}`)
        }
      }
      return j
    })
    let partitioning: Promise<void> = Promise.resolve()
    if (options.partitions) {
      await sleep(world.clock, 1000)
      partitioning = partitioner(world, cluster, () => partitionerDone)
    }
    await sleep(world.clock, 5000)
    clientsDone = true
    partitionerDone = true
    if (options.partitions) {
      await partitioning
      cluster.connectAll()
      await sleep(world.clock, ELECTION_TIMEOUT_MS)
    }
    if (options.crash) {
      for (let i = 0; i < options.servers; i++) cluster.shutdownServer(i)
      await sleep(world.clock, ELECTION_TIMEOUT_MS)
      for (let i = 0; i < options.servers; i++) await cluster.startServer(i)
      cluster.connectAll()
    }
    const counts = await Promise.all(clients)
    for (let client = 0; client < options.clients; client++) {
      const value = await get(world, checker, String(client), history, 0)
      if (!options.randomKeys) checkClientAppends(t, client, value, counts[client] as number)
    }
    if (options.maxRaftState > 0) {
      const size = cluster.logSize()
      if (size > 8 * options.maxRaftState) t.fail(`iteration ${iteration}: logs were not trimmed (${size} > 8 × ${options.maxRaftState})`)
    } else if (cluster.snapshotSize() > 0) {
      t.fail(`iteration ${iteration}: a snapshot of ${cluster.snapshotSize()} bytes appeared though snapshots are off`)
    }
  }
  if (options.maxRaftState > 0) {
    const size = cluster.logSize()
    t.ok(size <= 8 * options.maxRaftState, `raft state ${size} bytes ≤ 8 × maxraftstate`)
  }
  checkLinearizable(t, history, false, 'kvraft')
  cluster.cleanup()
}

/** The lab's speed test: 1000 sequential appends, at most 100/3 ms each on average. */
export async function speedTest(world: SimWorld, t: Test, maxRaftState: number): Promise<void> {
  const cluster = await KvCluster.create(world, clusterOptions({ servers: 3, unreliable: false, maxRaftState }))
  const clerk = cluster.makeClient(cluster.all())
  await clerk.get('x')
  const started = world.clock.now()
  for (let i = 0; i < 1000; i++) await clerk.append('x', appendValue(0, i))
  const perOpMs = (world.clock.now() - started) / 1000
  checkClientAppends(t, 0, await clerk.get('x'), 1000)
  t.ok(perOpMs <= 100 / 3, `${perOpMs.toFixed(2)} ms per operation (≤ 33.3)`)
  if (maxRaftState > 0) t.ok(cluster.logSize() <= 8 * maxRaftState, `raft state ${cluster.logSize()} bytes ≤ 8 × ${maxRaftState}`)
  cluster.cleanup()
}
