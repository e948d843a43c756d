// MIT 6.5840 Lab 4B (the Raft KV with snapshots: maxraftstate), on the simulated network and
// virtual time; every history is checked for linearizability and the raft state stays bounded.
import t from 'tap'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { sleep } from '../src/base/clock.js'
import { simTest } from './helpers/sim.js'
import { ELECTION_TIMEOUT_MS, clusterOptions, genericTest, speedTest } from './helpers/kv-raft.js'
import { checkLinearizable, get, newHistory, put } from './helpers/kv.js'

const limits = { maxVirtualMs: 600_000 }
const MAX_RAFT_STATE = 1000
const base = { unreliable: false, crash: false, partitions: false, maxRaftState: MAX_RAFT_STATE, randomKeys: false }

simTest(
  t,
  'SnapshotRPC (a lagging server catches up by InstallSnapshot)',
  async (world, t) => {
    const cluster = await KvCluster.create(world, clusterOptions({ servers: 3, unreliable: false, maxRaftState: MAX_RAFT_STATE }))
    const history = newHistory()
    const clerk = cluster.makeClient(cluster.all())
    const check = async (clerkToUse: typeof clerk, key: string, wanted: string): Promise<void> => {
      t.equal(await get(world, clerkToUse, key, history, 9), wanted, `${key} = ${wanted}`)
    }
    await put(world, clerk, 'a', 'A', history, 0)
    await check(clerk, 'a', 'A')
    cluster.partition([0, 1], [2])
    const majority = cluster.makeClient([0, 1])
    for (let i = 0; i < 50; i++) await put(world, majority, String(i), String(i), history, 1)
    await sleep(world.clock, ELECTION_TIMEOUT_MS)
    await put(world, majority, 'b', 'B', history, 1)
    const trimmed = cluster.logSize()
    t.ok(trimmed <= 8 * MAX_RAFT_STATE, `the majority trimmed its logs without the minority (${trimmed} ≤ 8 × ${MAX_RAFT_STATE})`)
    const installsBefore = world.network.serverRpcCount('kv2')
    cluster.partition([0, 2], [1])
    const withLagging = cluster.makeClient([0, 2])
    await put(world, withLagging, 'c', 'C', history, 2)
    await put(world, withLagging, 'd', 'D', history, 2)
    await check(withLagging, 'a', 'A')
    await check(withLagging, 'b', 'B')
    await check(withLagging, '1', '1')
    await check(withLagging, '49', '49')
    t.ok(world.network.serverRpcCount('kv2') > installsBefore, 'the lagging server was contacted')
    t.ok((cluster.servers[2]?.raft.status().snapshotIndex ?? 0) > 0, 'and installed a snapshot')
    cluster.partition([0, 1, 2], [])
    await put(world, clerk, 'e', 'E', history, 0)
    await check(clerk, 'c', 'C')
    await check(clerk, 'e', 'E')
    await check(clerk, '1', '1')
    checkLinearizable(t, history, false, 'kvraft-snapshot-rpc')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'SnapshotSize (raft state ≤ 8 × 1000 bytes, snapshots ≤ 500 bytes)',
  async (world, t) => {
    const cluster = await KvCluster.create(world, clusterOptions({ servers: 3, unreliable: false, maxRaftState: MAX_RAFT_STATE }))
    const clerk = cluster.makeClient(cluster.all())
    for (let i = 0; i < 200; i++) {
      await clerk.put('x', '0')
      if ((await clerk.get('x')) !== '0') t.fail('x should be 0')
      await clerk.put('x', '1')
      if ((await clerk.get('x')) !== '1') t.fail('x should be 1')
    }
    t.ok(cluster.logSize() <= 8 * MAX_RAFT_STATE, `raft state ${cluster.logSize()} bytes ≤ 8 × ${MAX_RAFT_STATE}`)
    t.ok(cluster.snapshotSize() > 0 && cluster.snapshotSize() <= 500, `snapshot ${cluster.snapshotSize()} bytes (0 < size ≤ 500)`)
    cluster.cleanup()
  },
  limits,
)

simTest(t, 'SpeedSnapshot', (world, t) => speedTest(world, t, MAX_RAFT_STATE), limits)
simTest(t, 'SnapshotRecover', (world, t) => genericTest(world, t, { ...base, clients: 1, servers: 5, crash: true }), limits)
simTest(t, 'SnapshotRecoverManyClients', (world, t) => genericTest(world, t, { ...base, clients: 20, servers: 5, crash: true }), limits)
simTest(t, 'SnapshotUnreliable', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, unreliable: true }), limits)
simTest(t, 'SnapshotUnreliableRecover', (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, unreliable: true, crash: true }), limits)
simTest(
  t,
  'SnapshotUnreliableRecoverConcurrentPartition',
  (world, t) => genericTest(world, t, { ...base, clients: 5, servers: 5, unreliable: true, crash: true, partitions: true }),
  limits,
)
simTest(
  t,
  'SnapshotUnreliableRecoverConcurrentPartitionLinearizable',
  (world, t) =>
    genericTest(world, t, { clients: 15, servers: 7, unreliable: true, crash: true, partitions: true, maxRaftState: MAX_RAFT_STATE, randomKeys: true }),
  limits,
)
