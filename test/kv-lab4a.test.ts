// MIT 6.5840 Lab 4A (a fault-tolerant KV service on Raft, without snapshots), on the simulated
// network and virtual time; every history is checked for linearizability.
import t from 'tap'
import { sleep } from '../src/base/clock.js'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { simTest } from './helpers/sim.js'
import { ELECTION_TIMEOUT_MS, clusterOptions, genericTest, speedTest } from './helpers/kv-raft.js'
import { append, appendValue, checkConcurrentAppends, checkLinearizable, get, newHistory, put } from './helpers/kv.js'

const limits = { maxVirtualMs: 600_000 }
const base = { unreliable: false, crash: false, partitions: false, maxRaftState: -1, randomKeys: false }

simTest(t, 'Basic', (world, t) => genericTest(world, t, { ...base, clients: 1, servers: 5 }), limits)
simTest(t, 'Speed', (world, t) => speedTest(world, t, -1), limits)
simTest(t, 'Concurrent', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5 }), limits)
simTest(t, 'Unreliable', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, unreliable: true }), limits)

simTest(
  t,
  'UnreliableOneKey',
  async (world, t) => {
    const cluster = await KvCluster.create(world, clusterOptions({ servers: 3, unreliable: true, maxRaftState: -1 }))
    const history = newHistory()
    const clerk = cluster.makeClient(cluster.all())
    await put(world, clerk, 'k', '', history, 0)
    const clients = 5
    const upto = 10
    await Promise.all(
      Array.from({ length: clients }, async (_, me) => {
        const mine = cluster.makeClient(cluster.all())
        for (let n = 0; n < upto; n++) await append(world, mine, 'k', appendValue(me, n), history, me + 1, false)
      }),
    )
    checkConcurrentAppends(
      t,
      await get(world, clerk, 'k', history, 0),
      Array.from({ length: clients }, () => upto),
    )
    checkLinearizable(t, history, false, 'kvraft-one-key')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'OnePartition',
  async (world, t) => {
    const cluster = await KvCluster.create(world, clusterOptions({ servers: 5, unreliable: false, maxRaftState: -1 }))
    const history = newHistory()
    const clerk = cluster.makeClient(cluster.all())
    await put(world, clerk, '1', '13', history, 0)
    const [p1, p2] = cluster.makePartition()
    cluster.partition(p1, p2)
    const ckp1 = cluster.makeClient(p1)
    const ckp2a = cluster.makeClient(p2)
    const ckp2b = cluster.makeClient(p2)
    await put(world, ckp1, '1', '14', history, 1)
    t.equal(await get(world, ckp1, '1', history, 1), '14', 'progress in the majority')

    let putDone = false
    let getDone = false
    const pendingPut = put(world, ckp2a, '1', '15', history, 2).then(() => (putDone = true))
    const pendingGet = get(world, ckp2b, '1', history, 3).then(() => (getDone = true))
    await sleep(world.clock, 1000)
    t.notOk(putDone, 'no Put completes in the minority')
    t.notOk(getDone, 'no Get completes in the minority')
    t.equal(await get(world, ckp1, '1', history, 1), '14', 'the majority still reads 14')
    await put(world, ckp1, '1', '16', history, 1)
    t.equal(await get(world, ckp1, '1', history, 1), '16', 'and can still write')

    cluster.connectAll()
    cluster.connectClient(ckp2a, cluster.all())
    cluster.connectClient(ckp2b, cluster.all())
    await sleep(world.clock, ELECTION_TIMEOUT_MS)
    const healedAt = world.clock.now()
    await Promise.race([pendingPut, sleep(world.clock, 3000)])
    t.ok(putDone, `the pending Put completed after healing (${world.clock.now() - healedAt} ms after the election timeout)`)
    await Promise.race([pendingGet, sleep(world.clock, 3000)])
    t.ok(getDone, 'the pending Get completed after healing too')
    t.equal(await get(world, clerk, '1', history, 0), '15', 'the minority Put took effect last')
    checkLinearizable(t, history, false, 'kvraft-one-partition')
    cluster.cleanup()
  },
  limits,
)

simTest(t, 'ManyPartitionsOneClient', (world, t) => genericTest(world, t, { ...base, clients: 1, servers: 5, partitions: true }), limits)
simTest(t, 'ManyPartitionsManyClients', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, partitions: true }), limits)
simTest(t, 'PersistOneClient', (world, t) => genericTest(world, t, { ...base, clients: 1, servers: 5, crash: true }), limits)
simTest(t, 'PersistConcurrent', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, crash: true }), limits)
simTest(t, 'PersistConcurrentUnreliable', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, crash: true, unreliable: true }), limits)
simTest(t, 'PersistPartition', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, crash: true, partitions: true }), limits)
simTest(
  t,
  'PersistPartitionUnreliable',
  (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, crash: true, partitions: true, unreliable: true }),
  limits,
)
simTest(
  t,
  'PersistPartitionUnreliableLinearizable',
  (world, t) => genericTest(world, t, { clients: 15, servers: 7, crash: true, partitions: true, unreliable: true, maxRaftState: -1, randomKeys: true }),
  limits,
)
