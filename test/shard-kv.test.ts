// MIT 6.5840 Lab 5B (the sharded KV) and both challenges, on the simulated network.
import t from 'tap'
import { sleep } from '../src/sim/clock.js'
import { firstByteShard } from '../src/shard/config.js'
import { invoke } from '../src/rpc/service.js'
import { kvCommandMethod } from '../src/statemachine/kv-rpc.js'
import { ShardCluster } from '../src/testing/shard-cluster.js'
import { simTest } from './helpers/sim.js'
import { check, putKeys, randomString } from './helpers/shard.js'

const limits = { maxVirtualMs: 600_000 }

simTest(t, 'StaticShards (with one group down, exactly the 5 keys of the other group are served)', async (world, t) => {
  const cluster = await ShardCluster.create(world, {})
  const clerk = cluster.makeClient()
  await cluster.join(0)
  await cluster.join(1)
  const { keys, values } = await putKeys(world, clerk, 10, 20)
  for (let i = 0; i < 10; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  cluster.shutdownGroup(1)
  t.equal(cluster.largestSnapshotBytes(), 0, 'no snapshots without maxraftstate')
  let completed = 0
  for (let i = 0; i < 10; i++) {
    const mine = cluster.makeClient()
    void mine.get(keys[i] as string).then((value) => {
      if (value !== values[i]) t.fail(`Get(${keys[i]}) returned a wrong value`)
      completed++
    })
  }
  await sleep(world.clock, 2000)
  t.equal(completed, 5, 'exactly 5 of 10 Gets complete with one of two groups down')
  await cluster.startGroup(1)
  for (let i = 0; i < 10; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  cluster.cleanup()
}, limits)

simTest(t, 'Rejection (a group answers ErrWrongGroup for shards it does not own, whatever config the caller has)', async (world, t) => {
  const cluster = await ShardCluster.create(world, {})
  const clerk = cluster.makeClient()
  await cluster.join(0)
  const { keys, values } = await putKeys(world, clerk, 10, 5)
  await cluster.join(1)
  const config = await cluster.admin.query(-1)
  await sleep(world.clock, 2000)
  // A caller still using the first configuration sends every key to group 100.
  const caller = cluster.clientTransport()
  let refused = 0
  for (let i = 0; i < 10; i++) {
    const key = keys[i] as string
    const owner = config.shards[firstByteShard(key, 10)]
    let reply = null
    for (const server of cluster.group(0).serverNames()) {
      const attempt = await invoke(caller, server, kvCommandMethod, { clientId: 424242, sequence: 0, command: { op: 'get', key, value: '' } }).catch(() => null)
      if (attempt && attempt.err !== 'ErrWrongLeader') reply = attempt
    }
    if (owner === 100) {
      t.same(reply && { err: reply.err, value: reply.result.value }, { err: 'OK', value: values[i] }, `group 100 serves key ${key} of its own shard`)
    } else {
      t.equal(reply?.err, 'ErrWrongGroup', `group 100 refuses key ${key} of shard ${firstByteShard(key, 10)} (owned by ${owner})`)
      refused++
    }
  }
  t.ok(refused > 0, `${refused} keys belong to the new group`)
  const write = await invoke(caller, cluster.group(0).serverNames()[cluster.group(0).leader() ?? 0] as string, kvCommandMethod, {
    clientId: 424242,
    sequence: 1,
    command: { op: 'put', key: keys.find((key) => config.shards[firstByteShard(key, 10)] !== 100) as string, value: 'stale' },
  })
  t.equal(write.err, 'ErrWrongGroup', 'a write to a shard the group gave away is refused too')
  for (let i = 0; i < 10; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  cluster.cleanup()
}, limits)

simTest(t, 'JoinLeave', async (world, t) => {
  const cluster = await ShardCluster.create(world, {})
  const clerk = cluster.makeClient()
  await cluster.join(0)
  const { keys, values } = await putKeys(world, clerk, 10, 5)
  for (let i = 0; i < 10; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  await cluster.join(1)
  for (let i = 0; i < 10; i++) {
    await check(t, clerk, keys[i] as string, values[i] as string)
    const x = randomString(world, 5)
    await clerk.append(keys[i] as string, x)
    values[i] += x
  }
  await cluster.leave(0)
  for (let i = 0; i < 10; i++) {
    await check(t, clerk, keys[i] as string, values[i] as string)
    const x = randomString(world, 5)
    await clerk.append(keys[i] as string, x)
    values[i] += x
  }
  await sleep(world.clock, 1000)
  t.equal(cluster.largestSnapshotBytes(), 0, 'no snapshots without maxraftstate')
  cluster.shutdownGroup(0)
  for (let i = 0; i < 10; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  t.pass('every value intact after the first group left and shut down')
  cluster.cleanup()
}, limits)

simTest(t, 'Snapshot', async (world, t) => {
  const cluster = await ShardCluster.create(world, { maxRaftStateBytes: 1000 })
  const clerk = cluster.makeClient()
  await cluster.join(0)
  const { keys, values } = await putKeys(world, clerk, 30, 20)
  for (let i = 0; i < 30; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  await cluster.join(1)
  await cluster.join(2)
  await cluster.leave(0)
  for (let i = 0; i < 30; i++) {
    await check(t, clerk, keys[i] as string, values[i] as string)
    const x = randomString(world, 20)
    await clerk.append(keys[i] as string, x)
    values[i] += x
  }
  await cluster.leave(1)
  await cluster.join(0)
  for (let i = 0; i < 30; i++) {
    await check(t, clerk, keys[i] as string, values[i] as string)
    const x = randomString(world, 20)
    await clerk.append(keys[i] as string, x)
    values[i] += x
  }
  await sleep(world.clock, 1000)
  for (let i = 0; i < 30; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  await sleep(world.clock, 1000)
  t.ok(cluster.largestLogBytes() <= 8 * 1000, `raft state ${cluster.largestLogBytes()} bytes ≤ 8 × 1000`)
  for (let gi = 0; gi < 3; gi++) cluster.shutdownGroup(gi)
  for (let gi = 0; gi < 3; gi++) await cluster.startGroup(gi)
  for (let i = 0; i < 30; i++) await check(t, clerk, keys[i] as string, values[i] as string)
  t.pass('every value intact after all groups restarted from their snapshots')
  cluster.cleanup()
}, limits)
