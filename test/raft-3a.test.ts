// MIT 6.5840 Lab 3A (leader election), on the simulated network and virtual time.
import t from 'tap'
import { RaftCluster } from '../src/testing/raft-cluster.js'
import { simTest } from './helpers/sim.js'

const RAFT_ELECTION_TIMEOUT_MS = 1000
const limits = { maxVirtualMs: 300_000 }

simTest(
  t,
  'InitialElection',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 3)
    await cluster.checkOneLeader()
    await cluster.sleep(50)
    const term1 = cluster.checkTerms()
    t.ok(term1 >= 1, `term is ${term1}, but should be at least 1`)
    await cluster.sleep(2 * RAFT_ELECTION_TIMEOUT_MS)
    const term2 = cluster.checkTerms()
    t.equal(term2, term1, 'the term does not change without failures')
    await cluster.checkOneLeader()
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReElection',
  async (world) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    const leader1 = await cluster.checkOneLeader()
    cluster.disconnect(leader1)
    await cluster.checkOneLeader()
    cluster.connect(leader1)
    const leader2 = await cluster.checkOneLeader()
    cluster.disconnect(leader2)
    cluster.disconnect((leader2 + 1) % servers)
    await cluster.sleep(2 * RAFT_ELECTION_TIMEOUT_MS)
    cluster.checkNoLeader()
    cluster.connect((leader2 + 1) % servers)
    await cluster.checkOneLeader()
    cluster.connect(leader2)
    await cluster.checkOneLeader()
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ManyElections',
  async (world) => {
    const servers = 7
    const cluster = await RaftCluster.create(world, servers)
    await cluster.checkOneLeader()
    for (let iteration = 1; iteration < 10; iteration++) {
      const i1 = world.rng.int(servers)
      const i2 = world.rng.int(servers)
      const i3 = world.rng.int(servers)
      cluster.disconnect(i1)
      cluster.disconnect(i2)
      cluster.disconnect(i3)
      await cluster.checkOneLeader()
      cluster.connect(i1)
      cluster.connect(i2)
      cluster.connect(i3)
    }
    await cluster.checkOneLeader()
    cluster.cleanup()
  },
  limits,
)
