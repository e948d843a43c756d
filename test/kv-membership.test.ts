// Membership changes under a Raft KV's client load (issue 12), on the simulated network with the
// labrpc faults: the cluster grows and shrinks, and a crashed server is replaced by a new id, while
// clerks append and read; every client's appends survive exactly once and the whole history is
// linearizable.

import type { Test } from 'tap'
import t from 'tap'
import { isVoter } from '../src/raft/membership.js'
import type { MembershipChange } from '../src/raft/membership.js'
import { sleep } from '../src/base/clock.js'
import type { SimWorld } from '../src/sim/world.js'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { append, appendValue, checkClientAppends, checkLinearizable, get, newHistory, put } from './helpers/kv.js'
import { KV_LATENCY_MS } from './helpers/kv-raft.js'
import { simTest } from './helpers/sim.js'

const limits = { maxVirtualMs: 600_000 }
const CLIENTS = 4

interface Load {
  /** Stops the clients and resolves with how many appends each made. */
  stop(): Promise<number[]>
}

/** CLIENTS clerks, each appending to (and reading back) its own key until stopped. */
function clientLoad(world: SimWorld, t: Test, cluster: KvCluster, history: ReturnType<typeof newHistory>): Load {
  let done = false
  const clients = Array.from({ length: CLIENTS }, async (_, client) => {
    const clerk = cluster.makeClient(cluster.all())
    let appended = 0
    let expected = ''
    await put(world, clerk, String(client), '', history, client)
    while (!done) {
      if (world.rng.int(2) === 0) {
        const value = appendValue(client, appended)
        await append(world, clerk, String(client), value, history, client, false)
        expected += value
        appended++
      } else {
        const seen = await get(world, clerk, String(client), history, client)
        if (seen !== expected) t.fail(`client ${client} read ${seen.length} bytes, expected ${expected.length}`)
      }
    }
    return appended
  })
  return {
    stop: async () => {
      done = true
      return Promise.all(clients)
    },
  }
}

async function checkOutcome(
  world: SimWorld,
  t: Test,
  cluster: KvCluster,
  history: ReturnType<typeof newHistory>,
  counts: number[],
  readers: number[],
): Promise<void> {
  const checker = cluster.makeClient(readers)
  for (let client = 0; client < CLIENTS; client++) {
    checkClientAppends(t, client, await get(world, checker, String(client), history, 0), counts[client] as number)
  }
  checkLinearizable(t, history, false, 'kv membership')
}

async function waitForVoter(world: SimWorld, cluster: KvCluster, id: string): Promise<boolean> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const leader = cluster.leader()
    if (leader !== null && isVoter(cluster.servers[leader]?.raft.members().configuration ?? { voters: [], learners: [] }, id)) return true
    await sleep(world.clock, 50)
  }
  return false
}

for (const unreliable of [false, true]) {
  simTest(
    t,
    `GrowThreeToFiveAndShrinkToThreeUnderKvLoad${unreliable ? 'Unreliable' : ''}`,
    async (world, t) => {
      const cluster = await KvCluster.create(world, { servers: 5, founders: 3, unreliable, latencyMs: KV_LATENCY_MS, maxRaftStateBytes: 2000 })
      const history = newHistory()
      const load = clientLoad(world, t, cluster, history)
      await sleep(world.clock, 1000)
      for (const joining of [3, 4]) {
        await cluster.changeMembership({ kind: 'addLearner', id: cluster.serverName(joining), address: '', promoteWhenCaughtUp: true }, 30_000)
        t.ok(await waitForVoter(world, cluster, cluster.serverName(joining)), `${cluster.serverName(joining)} caught up and was promoted`)
        await sleep(world.clock, 500)
      }
      for (const leaving of [0, 1]) {
        await cluster.changeMembership({ kind: 'remove', id: cluster.serverName(leaving) }, 30_000)
        await sleep(world.clock, 500)
      }
      await sleep(world.clock, 1000)
      const counts = await load.stop()
      const leader = cluster.leader()
      t.same(
        cluster.servers[leader ?? 2]?.raft
          .members()
          .configuration.voters.map((member) => member.id)
          .sort(),
        ['kv2', 'kv3', 'kv4'],
        'three voters, two of them new',
      )
      for (const removed of [0, 1]) cluster.shutdownServer(removed)
      await checkOutcome(world, t, cluster, history, counts, [2, 3, 4])
      cluster.cleanup()
    },
    limits,
  )
}

simTest(
  t,
  'ReplaceACrashedServerByANewIdUnderKvLoad',
  async (world, t) => {
    const cluster = await KvCluster.create(world, { servers: 4, founders: 3, unreliable: true, latencyMs: KV_LATENCY_MS, maxRaftStateBytes: 2000 })
    const history = newHistory()
    const load = clientLoad(world, t, cluster, history)
    await sleep(world.clock, 1000)
    cluster.shutdownServer(0) // Its machine is gone for good.
    await sleep(world.clock, 1000)
    const steps: MembershipChange[] = [
      { kind: 'addLearner', id: 'kv3', address: '', promoteWhenCaughtUp: true },
      { kind: 'remove', id: 'kv0' },
    ]
    await cluster.changeMembership(steps[0] as MembershipChange, 30_000)
    t.ok(await waitForVoter(world, cluster, 'kv3'), 'the new server caught up and was promoted')
    await cluster.changeMembership(steps[1] as MembershipChange, 30_000)
    cluster.partition([1, 3], [2]) // The new server is needed for a quorum now.
    await sleep(world.clock, 2000)
    cluster.connectAll()
    const counts = await load.stop()
    await checkOutcome(world, t, cluster, history, counts, [1, 2, 3])
    cluster.cleanup()
  },
  limits,
)
