// MIT 6.5840 Lab 3D (log compaction), on the simulated network and virtual time. The applier
// snapshots every 10 commands, as the lab's applierSnap does.
import t, { type Test } from 'tap'
import { RaftCluster } from '../src/testing/raft-cluster.js'
import type { SimWorld } from '../src/sim/world.js'
import { simTest } from './helpers/sim.js'

const SNAPSHOT_INTERVAL = 10
const MAX_LOG_SIZE_BYTES = 2000
const limits = { maxVirtualMs: 600_000 }

interface SnapshotScenario {
  disconnect: boolean
  reliable: boolean
  crash: boolean
}

async function snapshotCommon(world: SimWorld, t: Test, scenario: SnapshotScenario): Promise<void> {
  const iterations = 30
  const servers = 3
  const random = (): number => world.rng.int(2 ** 31)
  const cluster = await RaftCluster.create(world, servers, { unreliable: !scenario.reliable, snapshots: true, snapshotInterval: SNAPSHOT_INTERVAL })
  await cluster.one(random(), servers, true)
  let leader1 = await cluster.checkOneLeader()
  let largestLogBytes = 0
  for (let i = 0; i < iterations; i++) {
    let victim = (leader1 + 1) % servers
    let sender = leader1
    if (i % 3 === 1) {
      sender = (leader1 + 1) % servers
      victim = leader1
    }
    if (scenario.disconnect) {
      cluster.disconnect(victim)
      await cluster.one(random(), servers - 1, true)
    }
    if (scenario.crash) {
      cluster.crash1(victim)
      await cluster.one(random(), servers - 1, true)
    }
    const count = SNAPSHOT_INTERVAL / 2 + world.rng.int(SNAPSHOT_INTERVAL)
    for (let k = 0; k < count; k++) cluster.start(sender, random())
    if (!scenario.disconnect && !scenario.crash) await cluster.one(random(), servers, true)
    else await cluster.one(random(), servers - 1, true)
    const logBytes = cluster.logSize()
    largestLogBytes = Math.max(largestLogBytes, logBytes)
    if (logBytes >= MAX_LOG_SIZE_BYTES) t.fail(`iteration ${i}: raft state of ${logBytes} bytes is not below ${MAX_LOG_SIZE_BYTES}`)
    if (scenario.disconnect) {
      cluster.connect(victim)
      await cluster.one(random(), servers, true)
      leader1 = await cluster.checkOneLeader()
    }
    if (scenario.crash) {
      await cluster.start1(victim)
      cluster.connect(victim)
      await cluster.one(random(), servers, true)
      leader1 = await cluster.checkOneLeader()
    }
  }
  t.ok(largestLogBytes < MAX_LOG_SIZE_BYTES, `raft state stayed below ${MAX_LOG_SIZE_BYTES} bytes (largest ${largestLogBytes})`)
  cluster.cleanup()
}

simTest(t, 'SnapshotBasic', (world, t) => snapshotCommon(world, t, { disconnect: false, reliable: true, crash: false }), limits)
simTest(t, 'SnapshotInstall', (world, t) => snapshotCommon(world, t, { disconnect: true, reliable: true, crash: false }), limits)
simTest(t, 'SnapshotInstallUnreliable', (world, t) => snapshotCommon(world, t, { disconnect: true, reliable: false, crash: false }), limits)
simTest(t, 'SnapshotInstallCrash', (world, t) => snapshotCommon(world, t, { disconnect: false, reliable: true, crash: true }), limits)
simTest(t, 'SnapshotInstallUnCrash', (world, t) => snapshotCommon(world, t, { disconnect: false, reliable: false, crash: true }), limits)

simTest(
  t,
  'SnapshotAllCrash',
  async (world, t) => {
    const servers = 3
    const random = (): number => world.rng.int(2 ** 31)
    const cluster = await RaftCluster.create(world, servers, { snapshots: true, snapshotInterval: SNAPSHOT_INTERVAL })
    await cluster.one(random(), servers, true)
    for (let i = 0; i < 5; i++) {
      const count = SNAPSHOT_INTERVAL / 2 + world.rng.int(SNAPSHOT_INTERVAL)
      for (let k = 0; k < count; k++) await cluster.one(random(), servers, true)
      const index1 = await cluster.one(random(), servers, true)
      for (let j = 0; j < servers; j++) cluster.crash1(j)
      for (let j = 0; j < servers; j++) {
        await cluster.start1(j)
        cluster.connect(j)
      }
      const index2 = await cluster.one(random(), servers, true)
      t.ok(index2 >= index1 + 1, `index moved forward from ${index1} to ${index2} across a full restart`)
    }
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'SnapshotInit',
  async (world, t) => {
    const servers = 3
    const random = (): number => world.rng.int(2 ** 31)
    const cluster = await RaftCluster.create(world, servers, { snapshots: true, snapshotInterval: SNAPSHOT_INTERVAL })
    const checkSize = (step: string): void => {
      const bytes = cluster.logSize()
      t.ok(bytes < MAX_LOG_SIZE_BYTES, `${step}: raft state ${bytes} bytes < ${MAX_LOG_SIZE_BYTES}`)
    }
    await cluster.one(random(), servers, true)
    for (let i = 0; i < SNAPSHOT_INTERVAL + 1; i++) await cluster.one(random(), servers, true)
    checkSize('after enough commands for a snapshot')
    for (let j = 0; j < servers; j++) cluster.crash1(j)
    for (let j = 0; j < servers; j++) {
      await cluster.start1(j)
      cluster.connect(j)
    }
    await cluster.one(random(), servers, true)
    checkSize('after a restart and one command')
    for (let j = 0; j < servers; j++) cluster.crash1(j)
    for (let j = 0; j < servers; j++) {
      await cluster.start1(j)
      cluster.connect(j)
    }
    await cluster.one(random(), servers, true)
    checkSize('after a second restart')
    cluster.cleanup()
  },
  limits,
)
