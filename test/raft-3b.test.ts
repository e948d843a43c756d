// MIT 6.5840 Lab 3B (log replication), on the simulated network and virtual time.
import t from 'tap'
import { RaftCluster } from '../src/testing/raft-cluster.js'
import { simTest } from './helpers/sim.js'

const RAFT_ELECTION_TIMEOUT_MS = 1000
const limits = { maxVirtualMs: 300_000 }

function randomString(world: { rng: { int(n: number): number } }, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[world.rng.int(alphabet.length)]
  return out
}

simTest(
  t,
  'BasicAgree',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    for (let index = 1; index < 4; index++) {
      t.equal(cluster.nCommitted(index).count, 0, 'nothing committed before Start()')
      const xindex = await cluster.one(index * 100, servers, false)
      t.equal(xindex, index, `agreement ${index} lands at index ${index}`)
    }
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'RPCBytes',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(99, servers, false)
    const bytes0 = cluster.bytesTotal()
    let sent = 0
    for (let index = 2; index < 12; index++) {
      const command = randomString(world, 5000)
      const xindex = await cluster.one(command, servers, false)
      t.equal(xindex, index, `command lands at index ${index}`)
      sent += command.length
    }
    const got = cluster.bytesTotal() - bytes0
    const expected = servers * sent
    t.ok(got <= expected + 50_000, `network bytes ${got} ≤ ${expected} + 50000: each command goes to each peer once`)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'FollowerFailure',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(101, servers, false)
    const leader1 = await cluster.checkOneLeader()
    cluster.disconnect((leader1 + 1) % servers)
    await cluster.one(102, servers - 1, false)
    await cluster.sleep(RAFT_ELECTION_TIMEOUT_MS)
    await cluster.one(103, servers - 1, false)
    const leader2 = await cluster.checkOneLeader()
    cluster.disconnect((leader2 + 1) % servers)
    cluster.disconnect((leader2 + 2) % servers)
    const { index, isLeader } = cluster.start(leader2, 104)
    t.ok(isLeader, 'leader accepts Start()')
    t.equal(index, 4, 'at index 4')
    await cluster.sleep(2 * RAFT_ELECTION_TIMEOUT_MS)
    t.equal(cluster.nCommitted(index).count, 0, 'nothing commits without a majority')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'LeaderFailure',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(101, servers, false)
    const leader1 = await cluster.checkOneLeader()
    cluster.disconnect(leader1)
    await cluster.one(102, servers - 1, false)
    await cluster.sleep(RAFT_ELECTION_TIMEOUT_MS)
    await cluster.one(103, servers - 1, false)
    const leader2 = await cluster.checkOneLeader()
    cluster.disconnect(leader2)
    for (let i = 0; i < servers; i++) cluster.start(i, 104)
    await cluster.sleep(2 * RAFT_ELECTION_TIMEOUT_MS)
    t.equal(cluster.nCommitted(4).count, 0, 'nothing commits without a majority')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'FailAgree',
  async (world) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(101, servers, false)
    const leader = await cluster.checkOneLeader()
    cluster.disconnect((leader + 1) % servers)
    await cluster.one(102, servers - 1, false)
    await cluster.one(103, servers - 1, false)
    await cluster.sleep(RAFT_ELECTION_TIMEOUT_MS)
    await cluster.one(104, servers - 1, false)
    await cluster.one(105, servers - 1, false)
    cluster.connect((leader + 1) % servers)
    await cluster.one(106, servers, true)
    await cluster.sleep(RAFT_ELECTION_TIMEOUT_MS)
    await cluster.one(107, servers, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'FailNoAgree',
  async (world, t) => {
    const servers = 5
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(10, servers, false)
    const leader = await cluster.checkOneLeader()
    cluster.disconnect((leader + 1) % servers)
    cluster.disconnect((leader + 2) % servers)
    cluster.disconnect((leader + 3) % servers)
    const { index, isLeader } = cluster.start(leader, 20)
    t.ok(isLeader, 'leader accepts Start()')
    t.equal(index, 2, 'at index 2')
    await cluster.sleep(2 * RAFT_ELECTION_TIMEOUT_MS)
    t.equal(cluster.nCommitted(index).count, 0, 'nothing commits without a majority')
    cluster.connect((leader + 1) % servers)
    cluster.connect((leader + 2) % servers)
    cluster.connect((leader + 3) % servers)
    const leader2 = await cluster.checkOneLeader()
    const second = cluster.start(leader2, 30)
    t.ok(second.isLeader, 'the new leader accepts Start()')
    t.ok(second.index >= 2 && second.index <= 3, `index ${second.index} is 2 or 3`)
    await cluster.one(1000, servers, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ConcurrentStarts',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    let success = false
    attempts: for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) await cluster.sleep(3000)
      const leader = await cluster.checkOneLeader()
      const first = cluster.start(leader, 1)
      if (!first.isLeader) continue
      const indexes: number[] = []
      // The lab's five goroutines call Start at once; here they are five calls in one turn.
      for (let i = 0; i < 5; i++) {
        const result = cluster.start(leader, 100 + i)
        if (result.term === first.term && result.isLeader) indexes.push(result.index)
      }
      for (let j = 0; j < servers; j++) if (cluster.term(j) !== first.term) continue attempts
      const commands: unknown[] = []
      for (const index of indexes) {
        const command = await cluster.wait(index, servers, first.term)
        if (command === -1) continue attempts
        commands.push(command)
      }
      for (let i = 0; i < 5; i++) t.ok(commands.includes(100 + i), `command ${100 + i} committed`)
      success = true
      break
    }
    t.ok(success, 'the term settled long enough to agree')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'Rejoin',
  async (world) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(101, servers, true)
    const leader1 = await cluster.checkOneLeader()
    cluster.disconnect(leader1)
    cluster.start(leader1, 102)
    cluster.start(leader1, 103)
    cluster.start(leader1, 104)
    await cluster.one(103, 2, true)
    const leader2 = await cluster.checkOneLeader()
    cluster.disconnect(leader2)
    cluster.connect(leader1)
    await cluster.one(104, 2, true)
    cluster.connect(leader2)
    await cluster.one(105, servers, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'Backup',
  async (world) => {
    const servers = 5
    const random = (): number => world.rng.int(2 ** 31)
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(random(), servers, true)
    const leader1 = await cluster.checkOneLeader()
    cluster.disconnect((leader1 + 2) % servers)
    cluster.disconnect((leader1 + 3) % servers)
    cluster.disconnect((leader1 + 4) % servers)
    for (let i = 0; i < 50; i++) cluster.start(leader1, random())
    await cluster.sleep(RAFT_ELECTION_TIMEOUT_MS / 2)
    cluster.disconnect((leader1 + 0) % servers)
    cluster.disconnect((leader1 + 1) % servers)
    cluster.connect((leader1 + 2) % servers)
    cluster.connect((leader1 + 3) % servers)
    cluster.connect((leader1 + 4) % servers)
    for (let i = 0; i < 50; i++) await cluster.one(random(), 3, true)
    const leader2 = await cluster.checkOneLeader()
    let other = (leader1 + 2) % servers
    if (leader2 === other) other = (leader2 + 1) % servers
    cluster.disconnect(other)
    for (let i = 0; i < 50; i++) cluster.start(leader2, random())
    await cluster.sleep(RAFT_ELECTION_TIMEOUT_MS / 2)
    for (let i = 0; i < servers; i++) cluster.disconnect(i)
    cluster.connect((leader1 + 0) % servers)
    cluster.connect((leader1 + 1) % servers)
    cluster.connect(other)
    for (let i = 0; i < 50; i++) await cluster.one(random(), 3, true)
    for (let i = 0; i < servers; i++) cluster.connect(i)
    await cluster.one(random(), servers, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'Count',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    let leader = await cluster.checkOneLeader()
    let total1 = cluster.rpcTotal()
    t.ok(total1 >= 1 && total1 <= 30, `${total1} RPCs to elect the initial leader (1..30)`)
    let total2 = 0
    let success = false
    attempts: for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) await cluster.sleep(3000)
      leader = await cluster.checkOneLeader()
      total1 = cluster.rpcTotal()
      const iterations = 10
      const first = cluster.start(leader, 1)
      if (!first.isLeader) continue
      const commands: number[] = []
      for (let i = 1; i < iterations + 2; i++) {
        const x = world.rng.int(2 ** 31)
        commands.push(x)
        const result = cluster.start(leader, x)
        if (result.term !== first.term || !result.isLeader) continue attempts
        t.equal(result.index, first.index + i, 'Start() returns consecutive indexes')
      }
      for (let i = 1; i < iterations + 1; i++) {
        const command = await cluster.wait(first.index + i, servers, first.term)
        if (command === -1) continue attempts
        t.equal(command, commands[i - 1], `index ${first.index + i} holds the right command`)
      }
      let termChanged = false
      total2 = 0
      for (let j = 0; j < servers; j++) {
        if (cluster.term(j) !== first.term) termChanged = true
        total2 += cluster.rpcCount(j)
      }
      if (termChanged) continue
      t.ok(total2 - total1 <= (iterations + 1 + 3) * 3, `${total2 - total1} RPCs for ${iterations + 2} agreements (≤ 42)`)
      success = true
      break
    }
    t.ok(success, 'the term settled long enough to count')
    await cluster.sleep(RAFT_ELECTION_TIMEOUT_MS)
    const total3 = cluster.rpcTotal()
    t.ok(total3 - total2 <= 3 * 20, `${total3 - total2} RPCs in 1 s of idleness (≤ 60)`)
    cluster.cleanup()
  },
  limits,
)
