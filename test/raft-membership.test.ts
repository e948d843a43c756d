// Membership changes (issue 12) on the simulated network, with the lab's checks on every applied
// message: growing and shrinking under load, replacing a crashed server, removing the leader,
// learners that never count, a change in a minority partition, snapshots across an uncommitted
// change, crashes at every step of a change, and a removed server coming back.

import t from 'tap'
import { type Configuration, allMembers, isLearner, isVoter } from '../src/raft/membership.js'
import type { MembershipChange } from '../src/raft/membership.js'
import { MembershipTimeoutError } from '../src/testing/membership-driver.js'
import { RaftCluster } from '../src/testing/raft-cluster.js'
import type { SimWorld } from '../src/sim/world.js'
import { simTest } from './helpers/sim.js'

const limits = { maxVirtualMs: 600_000 }
const ELECTION_MS = 1000

const name = RaftCluster.peerName
const voters = (configuration: Configuration | null): string[] => (configuration?.voters ?? []).map((member) => member.id).sort()

/** Keeps proposing commands through whoever leads until stopped; returns how many committed. */
function background(cluster: RaftCluster, world: SimWorld): { stop: () => Promise<number> } {
  let running = true
  let committed = 0
  const loop = (async () => {
    let n = 0
    while (running) {
      for (let i = 0; i < cluster.size; i++) if (cluster.isLeader(i)) cluster.start(i, `load-${n++}`)
      await cluster.sleep(20 + world.rng.int(30))
      committed = cluster.maxIndex
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return committed
    },
  }
}

async function add(cluster: RaftCluster, i: number): Promise<void> {
  await cluster.changeMembership({ kind: 'addLearner', id: name(i), address: '', promoteWhenCaughtUp: false })
  await cluster.changeMembership({ kind: 'promote', id: name(i) })
}

simTest(
  t,
  'GrowThreeToFiveAndShrinkBackUnderLoad',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 5, { founders: 3 })
    await cluster.one(1, 3, true)
    const load = background(cluster, world)
    await add(cluster, 3)
    await add(cluster, 4)
    const leader = await cluster.checkOneLeader()
    t.same(voters(cluster.configuration(leader)), ['0', '1', '2', '3', '4'], 'five voters')
    const index = await cluster.one('with five', 5, true)
    t.ok(index > 0, 'all five apply a command')
    for (const gone of [0, 1]) await cluster.changeMembership({ kind: 'remove', id: name(gone) })
    await cluster.one('with three', 3, true)
    const committed = await load.stop()
    const final = await cluster.checkOneLeader()
    t.same(voters(cluster.configuration(final)), ['2', '3', '4'], 'back to three')
    t.ok(committed > 10, `the load went on committing (${committed} entries)`)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReplaceACrashedServerByANewId',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 4, { founders: 3 })
    await cluster.one(1, 3, true)
    const leader = await cluster.checkOneLeader()
    const dead = (leader + 1) % 3
    cluster.crash1(dead)
    await cluster.one(2, 2, true)
    await cluster.changeMembership({ kind: 'addLearner', id: name(3), address: '', promoteWhenCaughtUp: true })
    let promoted = false
    for (let attempt = 0; attempt < 100 && !promoted; attempt++) {
      await cluster.sleep(50)
      promoted = isVoter(cluster.configuration(leader) ?? { voters: [], learners: [] }, name(3))
    }
    t.ok(promoted, 'the new server is promoted once it has caught up')
    await cluster.changeMembership({ kind: 'remove', id: name(dead) })
    const survivor = [0, 1, 2].find((i) => i !== leader && i !== dead) as number
    cluster.disconnect(survivor)
    await cluster.one(3, 2, true) // The leader and the new server make a quorum of the new three.
    t.pass('the replaced cluster commits without the dead server and without one old member')
    cluster.connect(survivor)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'RemoveTheLeader',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 3)
    await cluster.one(1, 3, true)
    const leader = await cluster.checkOneLeader()
    await cluster.changeMembership({ kind: 'remove', id: name(leader) })
    await cluster.sleep(ELECTION_MS / 2)
    const next = await cluster.checkOneLeader()
    t.not(next, leader, 'another server leads')
    t.same(
      voters(cluster.configuration(next)),
      [0, 1, 2]
        .filter((i) => i !== leader)
        .map(name)
        .sort(),
    )
    // The old leader committed its removal and stepped down without telling anyone; the new leader
    // commits it with an entry of its own term, unasked, so its members() says committed even
    // when no client writes (a shard group waits for that before it tells its controller).
    await cluster.sleep(ELECTION_MS)
    t.ok(cluster.configurationCommitted(next), "the new leader commits the removal without a client's write")
    await cluster.one(2, 2, true)
    const termBefore = cluster.term(next)
    await cluster.sleep(5 * ELECTION_MS)
    t.notOk(cluster.isLeader(leader), 'the removed leader stays down')
    t.equal(cluster.term(next), termBefore, 'and never disrupts: no election since')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ALearnerNeverCountsTowardCommitOrElection',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 4, { founders: 3 })
    await cluster.one(1, 3, true)
    await cluster.changeMembership({ kind: 'addLearner', id: name(3), address: '', promoteWhenCaughtUp: false })
    await cluster.one(2, 4, true)
    const leader = await cluster.checkOneLeader()
    const [a, b] = [0, 1, 2].filter((i) => i !== leader) as [number, number]
    cluster.disconnect(a)
    cluster.disconnect(b)
    const { index } = cluster.start(leader, 'needs a voter')
    await cluster.sleep(2 * ELECTION_MS)
    t.equal(cluster.nCommitted(index).count, 0, 'the leader and the learner do not make a quorum of three voters')
    cluster.disconnect(leader)
    cluster.connect(a)
    cluster.connect(3)
    await cluster.sleep(4 * ELECTION_MS)
    t.notOk(cluster.isLeader(a), 'a voter and the learner cannot elect: the learner votes for nobody that counts')
    t.notOk(cluster.isLeader(3), 'and the learner never campaigns')
    t.ok(isLearner(cluster.configuration(3) ?? { voters: [], learners: [] }, name(3)), 'it is still a learner')
    cluster.connect(leader)
    cluster.connect(b)
    await cluster.one(3, 4, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'AMinorityLeaderCannotCommitAChange',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 6, { founders: 5 })
    await cluster.one(1, 5, true)
    const leader = await cluster.checkOneLeader()
    const minority = [leader, (leader + 1) % 5]
    for (let i = 0; i < 5; i++) if (!minority.includes(i)) cluster.disconnect(i)
    const node = cluster.nodes[leader]
    if (!node) throw new Error('no leader node')
    const attempt = node.changeMembership({ kind: 'addLearner', id: name(5), address: '', promoteWhenCaughtUp: false }).then(
      () => 'committed',
      (error: Error) => error.constructor.name,
    )
    await cluster.sleep(3 * ELECTION_MS)
    t.not(await Promise.race([attempt, cluster.sleep(1).then(() => 'pending')]), 'committed', 'the change does not commit in the minority')
    const majority = [0, 1, 2, 3, 4].filter((i) => !minority.includes(i))
    for (const i of minority) cluster.disconnect(i)
    for (const i of majority) cluster.connect(i)
    await cluster.one(2, 3, true)
    for (const i of minority) cluster.connect(i)
    await cluster.one(3, 5, true)
    for (let i = 0; i < 5; i++)
      t.notOk(
        allMembers(cluster.configuration(i) ?? { voters: [], learners: [] }).some((m) => m.id === name(5)),
        `server ${i} does not have the minority's change`,
      )
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ASnapshotTakenAndInstalledWhileAChangeIsUncommitted',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 4, { founders: 3, snapshots: true, snapshotInterval: 5 })
    const noConfiguration: Configuration = { voters: [], learners: [] }
    await cluster.one(1, 3, true)
    const leader = await cluster.checkOneLeader()
    const lagging = (leader + 1) % 3
    const other = (leader + 2) % 3
    cluster.disconnect(lagging)
    for (let k = 0; k < 7; k++) await cluster.one(`before-${k}`, 2, true)
    cluster.disconnect(other)
    const node = cluster.nodes[leader]
    if (!node) throw new Error('no leader node')
    const change = node.changeMembership({ kind: 'addLearner', id: name(3), address: '', promoteWhenCaughtUp: false }).catch(() => 'not committed')
    await cluster.sleep(100)
    t.notOk(node.members().committed, "the change is in the leader's log, uncommitted")
    const snapshotIndex = await cluster.snapshotNow(leader)
    t.ok(snapshotIndex < node.members().index, `a snapshot through ${snapshotIndex}, below the change at ${node.members().index}`)
    t.ok(isLearner(node.members().configuration, name(3)), 'the leader still uses its latest configuration')
    cluster.connect(other)
    await change
    for (let k = 0; k < 20; k++) await cluster.one(`after-${k}`, 2, true)
    cluster.connect(lagging)
    cluster.connect(3)
    await cluster.one('all', 4, true)
    for (const i of [0, 1, 2, 3]) t.ok(isLearner(cluster.configuration(i) ?? noConfiguration, name(3)), `server ${i} knows the learner`)
    for (const i of [lagging, 3]) {
      cluster.crash1(i)
      await cluster.start1(i)
      cluster.connect(i)
    }
    await cluster.one('after restarts', 4, true)
    for (const i of [lagging, 3])
      t.ok(isLearner(cluster.configuration(i) ?? noConfiguration, name(3)), `server ${i}, restarted from the snapshot it installed, still knows it`)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'CrashAndRestartEveryServerAtEveryStepOfAChange',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 4, { founders: 3 })
    await cluster.one(1, 3, true)
    const steps: MembershipChange[] = [
      { kind: 'addLearner', id: name(3), address: '', promoteWhenCaughtUp: false },
      { kind: 'promote', id: name(3) },
      { kind: 'remove', id: name(0) },
    ]
    for (const step of steps) {
      const attempt = cluster.changeMembership(step).catch((error: unknown) => error)
      for (let i = 0; i < 4; i++) {
        await cluster.sleep(world.rng.int(200))
        cluster.crash1(i)
        await cluster.start1(i)
        cluster.connect(i)
      }
      const outcome = await attempt
      if (outcome instanceof Error) {
        if (!(outcome instanceof MembershipTimeoutError)) throw outcome
        await cluster.changeMembership(step).catch(() => undefined) // It may have committed despite the failed wait.
      }
      await cluster.one(`after ${step.kind}`, step.kind === 'addLearner' ? 4 : 3, true)
    }
    const leader = await cluster.checkOneLeader()
    t.same(voters(cluster.configuration(leader)), ['1', '2', '3'])
    for (let i = 1; i < 4; i++) t.same(voters(cluster.configuration(i)), ['1', '2', '3'], `server ${i} agrees after all the crashes`)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ARemovedServerRejoiningWithItsOldDataDoesNotDisrupt',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 3)
    await cluster.one(1, 3, true)
    const leader = await cluster.checkOneLeader()
    const removed = (leader + 1) % 3
    cluster.disconnect(removed)
    await cluster.changeMembership({ kind: 'remove', id: name(removed) })
    await cluster.one(2, 2, true)
    const term = cluster.term(leader)
    cluster.connect(removed) // It never learned of its removal and still believes it is a voter.
    await cluster.sleep(10 * ELECTION_MS)
    t.ok(cluster.isLeader(leader), 'the leader keeps leading')
    t.equal(cluster.term(leader), term, 'no election was forced')
    await cluster.one(3, 2, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'BadChangesAreRefusedWithAClearErrorAndChangeNothing',
  async (world, t) => {
    const cluster = await RaftCluster.create(world, 3, { founders: 1 })
    await cluster.one(1, 1, true)
    const node = cluster.nodes[0]
    if (!node) throw new Error('no node')
    await t.rejects(node.removeServer('0'), { code: 'ERR_MEMBERSHIP', message: /0 is the last voter/ })
    await t.rejects(node.promote('7'), { code: 'ERR_MEMBERSHIP', message: /7 is not a member/ })
    await t.rejects(node.addLearner('0', ''), { code: 'ERR_MEMBERSHIP', message: /0 is already a voter/ })
    cluster.disconnect(1)
    const first = node.addLearner(name(1), '')
    const second = node.addLearner(name(2), '')
    await t.rejects(second, { code: 'ERR_MEMBERSHIP', message: /another change .* is not committed yet/ })
    await first
    const follower = cluster.nodes[1]
    await t.rejects(follower?.addLearner('9', '') ?? Promise.reject(new Error('no follower')), { code: 'ERR_NOT_LEADER' })
    t.same(voters(node.members().configuration), ['0'])
    cluster.cleanup()
  },
  limits,
)
