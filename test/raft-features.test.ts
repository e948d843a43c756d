// Raft beyond the lab, as etcd-io/raft and hashicorp/raft users rely on it: pre-vote,
// check-quorum, leader transfer and ReadIndex. Each scenario also runs with the feature off where
// that shows the test can tell the difference.
import t from 'tap'
import { RaftCluster } from '../src/testing/raft-cluster.js'
import { RaftNode } from '../src/raft/node.js'
import { LogStore } from '../src/log/log-store.js'
import { memoryDatabase } from '../src/log/backends.js'
import type { SimClientEnd } from '../src/rpc/sim-network.js'
import type { SimWorld } from '../src/sim/world.js'
import { sleep } from '../src/base/clock.js'
import { simTest } from './helpers/sim.js'

const limits = { maxVirtualMs: 120_000 }

function node(cluster: RaftCluster, i: number): RaftNode {
  const found = cluster.nodes[i]
  if (!found) throw new Error(`peer ${i} is not running`)
  return found
}

simTest(
  t,
  'PreVote: an isolated follower does not inflate its term, and its return does not depose the leader',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    const term = cluster.term(leader)
    const isolated = (leader + 1) % servers
    cluster.disconnect(isolated)
    await cluster.sleep(5000)
    t.equal(cluster.term(isolated), term, 'the isolated follower is still at the cluster term after 5 s')
    cluster.connect(isolated)
    await cluster.one(2, servers, true)
    t.equal(await cluster.checkOneLeader(), leader, 'the leader keeps its place')
    t.equal(cluster.term(leader), term, 'and its term')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'Without pre-vote, an isolated follower inflates its term and disrupts the leader on return',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers, { node: { preVote: false, checkQuorum: false } })
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    const term = cluster.term(leader)
    const isolated = (leader + 1) % servers
    cluster.disconnect(isolated)
    await cluster.sleep(5000)
    t.ok(cluster.term(isolated) > term + 3, `the isolated follower campaigned alone up to term ${cluster.term(isolated)}`)
    cluster.connect(isolated)
    await cluster.one(2, servers, true)
    t.ok(cluster.term(await cluster.checkOneLeader()) > term, 'the cluster had to move to a higher term')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'CheckQuorum: a leader cut off from the majority steps down within two election timeouts',
  async (world, t) => {
    const servers = 5
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    for (let k = 1; k <= 3; k++) cluster.disconnect((leader + k) % servers)
    await cluster.sleep(1200)
    t.not(node(cluster, leader).status().role, 'leader', 'the minority leader stepped down')
    t.notOk(node(cluster, leader).propose(new TextEncoder().encode('"late"')).isLeader, 'and refuses proposals')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'Without check-quorum, a leader cut off from the majority keeps believing it leads',
  async (world, t) => {
    const servers = 5
    const cluster = await RaftCluster.create(world, servers, { node: { checkQuorum: false } })
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    for (let k = 1; k <= 3; k++) cluster.disconnect((leader + k) % servers)
    await cluster.sleep(1200)
    t.equal(node(cluster, leader).status().role, 'leader', 'the stale leader still claims leadership')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'LeaderTransfer: leadership moves to the chosen follower in under an election timeout',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    const target = (leader + 2) % servers
    const term = cluster.term(leader)
    const started = world.clock.now()
    await node(cluster, leader).transferLeadership(String(target))
    const tookMs = world.clock.now() - started
    t.ok(tookMs < 300, `transfer took ${tookMs} ms`)
    t.equal(node(cluster, target).status().role, 'leader', 'the target leads')
    t.equal(cluster.term(target), term + 1, 'in the next term')
    t.equal(await cluster.one(2, servers, true), 2, 'and the cluster keeps agreeing')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'LeaderTransfer to a lagging follower first brings it up to date',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    const target = (leader + 1) % servers
    cluster.disconnect(target)
    for (let i = 0; i < 20; i++) await cluster.one(100 + i, servers - 1, true)
    cluster.connect(target)
    await node(cluster, leader).transferLeadership(String(target))
    t.equal(node(cluster, target).status().role, 'leader', 'the lagging target leads')
    t.equal(cluster.nCommitted(21).count, servers, 'every entry survived the transfer on every peer')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'LeaderTransfer refuses proposals while in flight, and gives up on an unreachable target',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    const target = (leader + 1) % servers
    cluster.disconnect(target)
    const transfer = node(cluster, leader).transferLeadership(String(target))
    t.notOk(cluster.start(leader, 2).isLeader, 'a proposal during the transfer is refused')
    await t.rejects(transfer, { code: 'ERR_RAFT_TIMEOUT' }, 'the transfer to an unreachable target times out')
    t.ok(cluster.start(leader, 3).isLeader, 'afterwards the leader accepts proposals again')
    t.equal(cluster.nodes.filter((n) => n?.status().role === 'leader').length, 1, 'one leader throughout')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReadIndex: a leader confirms a read point without writing to the log',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    const written = await cluster.one(7, servers, true)
    const leader = await cluster.checkOneLeader()
    const before = node(cluster, leader).status()
    const index = await node(cluster, leader).readIndex()
    t.ok(index >= written, `read point ${index} covers the completed write at ${written}`)
    t.ok(node(cluster, leader).status().appliedIndex >= index, 'resolves only once applied up to the read point')
    t.equal(node(cluster, leader).status().lastIndex, before.lastIndex, 'no log entry was written')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReadIndex on a follower: the leader confirms the point, and a lagging follower reads only once it has applied it',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(7, servers, true)
    const leader = await cluster.checkOneLeader()
    const follower = (leader + 1) % servers
    // The follower misses a write that completes on the other two.
    cluster.disconnect(follower)
    const written = await cluster.one(8, servers - 1, true)
    t.ok(node(cluster, follower).status().appliedIndex < written, 'the follower has not applied the write')
    cluster.connect(follower)
    const lastBefore = node(cluster, leader).status().lastIndex
    const index = await node(cluster, follower).readIndex()
    t.ok(index >= written, `the follower's read point ${index} covers the write completed at ${written}`)
    t.ok(node(cluster, follower).status().appliedIndex >= index, 'and it resolves only once the follower has applied it')
    t.equal(node(cluster, leader).status().lastIndex, lastBefore, 'no log entry was written')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReadIndex on a follower: holding the read point, it reads without waiting for the leader to tell it the point committed',
  async (world, t) => {
    const servers = 3
    // Slow disks: the leader cannot commit the entry until its own write is done, by when its
    // calls to the follower are cut (with instant writes it could commit, and tell the follower,
    // within the 1 ms the loop below sleeps).
    const cluster = await RaftCluster.create(world, servers, { diskWriteMs: 50 })
    await cluster.one(7, servers, true)
    const leader = await cluster.checkOneLeader()
    const follower = (leader + 1) % servers
    const proposed = cluster.start(leader, 8)
    // The follower gets the entry; then the leader's calls to it stop, so no AppendEntries can
    // tell it the entry committed. Its own calls to the leader still go through.
    while (node(cluster, follower).status().lastIndex < proposed.index) await sleep(world.clock, 1)
    cluster.setLink(leader, follower, false)
    while (node(cluster, leader).status().commitIndex < proposed.index) await sleep(world.clock, 1)
    t.ok(node(cluster, follower).status().commitIndex < proposed.index, 'the follower does not know the entry committed')
    const index = await node(cluster, follower).readIndex()
    t.ok(index >= proposed.index, `its read point ${index} covers the write at ${proposed.index}`)
    t.ok(node(cluster, follower).status().appliedIndex >= index, 'and it applied the entry from its own log')
    cluster.setLink(leader, follower, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReadIndex: a read round waits for no follower fsync still in flight',
  async (world, t) => {
    const servers = 3
    const diskWriteMs = 300
    const cluster = await RaftCluster.create(world, servers, { diskWriteMs })
    await cluster.one(7, servers, true)
    const leaderIndex = await cluster.checkOneLeader()
    const leader = node(cluster, leaderIndex)
    await leader.readIndex() // the term's first read: its entry is committed already
    // The followers start a slow write of a new entry; a read meanwhile needs only their heartbeat acks.
    cluster.start(leaderIndex, 8)
    await sleep(world.clock, 20)
    const startedMs = world.clock.now()
    await leader.readIndex()
    const tookMs = world.clock.now() - startedMs
    t.ok(tookMs < diskWriteMs / 2, `the read took ${tookMs} ms while the followers' ${diskWriteMs} ms writes were in flight`)
    cluster.cleanup()
  },
  limits,
)

// 100 reads at once on the leader: one round for the first, one for the 99 that came while it was
// in flight. On a follower: an ask for the first, one for the 99 that waited, and the leader's rounds
// for them. Either way a handful of messages (with any heartbeats the timer sent meanwhile), where a
// round per read would be 200 and an ask per read 100 more.
const sharedReads = [
  { name: 'ReadIndex: reads arriving while a round is in flight share the next round', reader: 'leader', offset: 0 },
  { name: 'ReadIndex on a follower: reads waiting together share one ask of the leader', reader: 'follower', offset: 1 },
] as const
for (const { name, reader, offset } of sharedReads) {
  simTest(
    t,
    name,
    async (world, t) => {
      const servers = 3
      const cluster = await RaftCluster.create(world, servers)
      const written = await cluster.one(7, servers, true)
      const readerNode = node(cluster, ((await cluster.checkOneLeader()) + offset) % servers)
      const rpcsBefore = cluster.rpcTotal()
      const indexes = await Promise.all(Array.from({ length: 100 }, () => readerNode.readIndex()))
      const rpcs = cluster.rpcTotal() - rpcsBefore
      t.ok(
        indexes.every((index) => index >= written),
        'every read covers the completed write',
      )
      t.ok(rpcs <= 20, `100 reads on the ${reader} took ${rpcs} messages`)
      cluster.cleanup()
    },
    limits,
  )
}

/** Heartbeats slowed to one a second: over a short run the timer sends at most timerHeartbeats(ms) of them. */
const SLOW_HEARTBEAT_MS = 1000

/** A 3-node cluster with slowed heartbeats, a completed write (its index) and the leader. */
async function slowHeartbeatCluster(world: SimWorld): Promise<{ cluster: RaftCluster; written: number; leader: number }> {
  const cluster = await RaftCluster.create(world, 3, { node: { heartbeatIntervalMs: SLOW_HEARTBEAT_MS, electionTimeoutMs: 3000 } })
  const written = await cluster.one(7, 3, true)
  return { cluster, written, leader: await cluster.checkOneLeader() }
}

/** The most messages the slowed heartbeat timer can send one member in `elapsedMs`. */
const timerHeartbeats = (elapsedMs: number): number => Math.floor(elapsedMs / SLOW_HEARTBEAT_MS) + 1

// In a 3-voter cluster the follower's ask is the acknowledgement the leader needs (it was sent in the
// leader's term after the reads arrived), so the leader answers it without a heartbeat round: the
// third member hears nothing of the reads beyond what the slowed heartbeat timer sends.
simTest(
  t,
  'ReadIndex on a follower of 3 voters: the ask alone confirms the point, with no heartbeat round to the third member',
  async (world, t) => {
    const { cluster, written, leader } = await slowHeartbeatCluster(world)
    const follower = (leader + 1) % 3
    const third = (leader + 2) % 3
    await node(cluster, follower).readIndex() // the follower has learned the commit index
    const thirdBefore = cluster.rpcCount(third)
    const startedMs = world.clock.now()
    for (let batch = 0; batch < 5; batch++) {
      const indexes = await Promise.all(Array.from({ length: 20 }, () => node(cluster, follower).readIndex()))
      t.ok(
        indexes.every((index) => index >= written),
        `batch ${batch}: every read covers the completed write`,
      )
    }
    const elapsedMs = world.clock.now() - startedMs
    const toThird = cluster.rpcCount(third) - thirdBefore
    t.ok(
      toThird <= timerHeartbeats(elapsedMs),
      `5 asks in ${elapsedMs} ms sent the third member ${toThird} messages, no more than the heartbeat timer's ${timerHeartbeats(elapsedMs)}`,
    )
    cluster.cleanup()
  },
  limits,
)

// While followers ask back to back, the answer to each ask tells the follower of the leader's
// latest read round, and its next ask acknowledges that round. So the leader's own reads need no
// heartbeat to an asking follower.
simTest(
  t,
  'ReadIndex: while the followers are asking, the leader’s own read rounds ride on their asks, with no heartbeats',
  async (world, t) => {
    const { cluster, written, leader } = await slowHeartbeatCluster(world)
    const followers = [(leader + 1) % 3, (leader + 2) % 3]
    // Without latency the followers' asks would loop in zero virtual time and starve every timer.
    world.network.setLatency(1, 3)
    let leaderDone = false
    const asked = followers.map(() => 0)
    const followerLoops = followers.map(async (follower, i) => {
      while (!leaderDone) {
        await Promise.all(Array.from({ length: 5 }, () => node(cluster, follower).readIndex()))
        asked[i] = (asked[i] as number) + 1
      }
    })
    while (asked.some((count) => count < 2)) await sleep(world.clock, 1)
    const before = followers.map((follower) => cluster.rpcCount(follower))
    const startedMs = world.clock.now()
    for (let batch = 0; batch < 30; batch++) {
      const indexes = await Promise.all(Array.from({ length: 5 }, () => node(cluster, leader).readIndex()))
      if (!indexes.every((index) => index >= written)) t.fail(`batch ${batch}: a read missed the completed write`)
    }
    const elapsedMs = world.clock.now() - startedMs
    const sent = followers.map((follower, i) => cluster.rpcCount(follower) - (before[i] as number))
    leaderDone = true
    await Promise.all(followerLoops)
    t.ok(
      sent.every((count) => count <= timerHeartbeats(elapsedMs)),
      `30 rounds of leader reads in ${elapsedMs} ms sent the followers ${sent.join(' and ')} messages, no more than the heartbeat timer's ${timerHeartbeats(elapsedMs)} each`,
    )
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReadIndex on a follower: cut off, or following a leader that lost its quorum, it serves no read',
  async (world, t) => {
    const servers = 5
    const cluster = await RaftCluster.create(world, servers, { node: { checkQuorum: false } })
    await cluster.one(1, servers, true)
    const old = await cluster.checkOneLeader()
    const follower = (old + 1) % servers
    cluster.disconnect(follower)
    await t.rejects(node(cluster, follower).readIndex(), 'a follower cut off from everyone serves no read')
    cluster.connect(follower)
    await cluster.one(2, servers, true)

    // The old leader keeps one follower; the other three elect a leader and commit a write.
    const majority = [...Array(servers).keys()].filter((i) => i !== old && i !== follower)
    cluster.partition([[old, follower], majority])
    const written = await cluster.one(3, majority.length, true)
    t.equal(node(cluster, follower).status().leaderId, RaftCluster.peerName(old), 'the follower still follows the old leader')
    const stale = node(cluster, follower).readIndex()
    await t.rejects(stale, 'which cannot confirm a read point, so the follower serves no read')
    const reader = node(cluster, majority[0] as number)
    t.ok((await reader.readIndex()) >= written, 'while a member of the majority reads the write')
    for (let i = 0; i < servers; i++) cluster.connect(i)
    await cluster.one(4, servers, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'Lease reads: a leader with a lease reads without messages; cut off, its lease ends before anyone else can lead',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers, { node: { leaseReads: true } })
    await cluster.one(7, servers, true)
    const old = await cluster.checkOneLeader()
    await sleep(world.clock, 200) // a heartbeat round or two: the lease is fresh
    // The reads go halfway between two ticks of the nodes' 20 ms clocks (all started at 0), where
    // no heartbeat timer can fire and send its own messages at the same instant.
    await sleep(world.clock, (30 - (world.clock.now() % 20)) % 20)
    const rpcsBefore = cluster.rpcTotal()
    await Promise.all(Array.from({ length: 50 }, () => node(cluster, old).readIndex()))
    t.equal(cluster.rpcTotal() - rpcsBefore, 0, '50 reads within the lease sent no message')

    cluster.disconnect(old)
    const cutAt = world.clock.now()
    let lastOldReadMs = -1
    let reading = true
    const oldReads = (async () => {
      while (reading) {
        try {
          await node(cluster, old).readIndex()
          lastOldReadMs = world.clock.now()
        } catch {
          // Not leader any more, or the round timed out: no read, which is safe.
        }
        await sleep(world.clock, 5)
      }
    })()
    let newLeaderAt = -1
    while (newLeaderAt < 0) {
      await sleep(world.clock, 5)
      for (let i = 0; i < servers; i++) {
        if (i !== old && node(cluster, i).status().role === 'leader') newLeaderAt = world.clock.now()
      }
    }
    reading = false
    await oldReads
    t.ok(lastOldReadMs >= cutAt, `the old leader served reads on its lease after it was cut off (last at +${lastOldReadMs - cutAt} ms)`)
    t.ok(lastOldReadMs < newLeaderAt, `and none once another could lead (new leader at +${newLeaderAt - cutAt} ms)`)
    cluster.connect(old)
    await cluster.one(8, servers, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReadIndex: a new leader commits a no-op of its term before serving reads',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers)
    await cluster.one(1, servers, true)
    const leader1 = await cluster.checkOneLeader()
    cluster.disconnect(leader1)
    const leader2 = await cluster.checkOneLeader()
    const lastBefore = node(cluster, leader2).status().lastIndex
    const index = await node(cluster, leader2).readIndex()
    t.equal(index, lastBefore + 1, 'the read waits for the new no-op at the end of the log')
    t.equal(node(cluster, leader2).status().commitIndex >= index, true, 'which is committed')
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'ReadIndex: a partitioned old leader never serves a stale read',
  async (world, t) => {
    const servers = 3
    const cluster = await RaftCluster.create(world, servers, { node: { checkQuorum: false } })
    await cluster.one(1, servers, true)
    const old = await cluster.checkOneLeader()
    cluster.disconnect(old)
    await cluster.one(2, servers - 1, true)
    t.equal(node(cluster, old).status().role, 'leader', 'without check-quorum the old leader still thinks it leads')
    await t.rejects(node(cluster, old).readIndex(), { code: 'ERR_RAFT_TIMEOUT' }, 'but its read is never confirmed')
    cluster.connect(old)
    await cluster.one(3, servers, true)
    cluster.cleanup()
  },
  limits,
)

simTest(
  t,
  'InstallSnapshot streams a large snapshot in chunks, never as one message',
  async (world, t) => {
    const chunkBytes = 64 * 1024
    const members = ['a', 'b', 'c']
    const nodes = new Map<string, RaftNode>()
    const ends: SimClientEnd[] = []
    const received = new Map<string, Uint8Array>()
    for (const id of members) {
      const attachment = world.attachNode(
        id,
        members.filter((m) => m !== id),
      )
      ends.push(...attachment.ends.values())
      const store = await LogStore.open(memoryDatabase(), { name: id, snapshotChunkBytes: chunkBytes })
      const rng = world.rng.fork()
      const raft = await RaftNode.create({ id, members, transport: attachment.transport, store, clock: world.clock, random: () => rng.float() })
      raft.committed$.subscribe((message) => {
        if (message.kind === 'snapshot') received.set(id, message.data)
      })
      raft.start()
      nodes.set(id, raft)
    }
    const pause = (ms: number): Promise<void> => sleep(world.clock, ms)
    let leader: RaftNode | undefined
    while (!leader) {
      await pause(100)
      leader = [...nodes.values()].find((n) => n.status().role === 'leader')
    }
    const lagging = members.find((id) => id !== leader?.id) as string
    const setLaggingConnected = (connected: boolean): void => {
      for (const end of ends) if (end.owner === lagging || end.name.includes(`->${lagging}#`)) world.network.enable(end.name, connected)
    }
    setLaggingConnected(false)
    let last = 0
    for (let i = 0; i < 5; i++) last = leader.propose(new TextEncoder().encode(`command ${i}`)).index
    while (leader.status().appliedIndex < last) await pause(10)
    const state = world.rng.bytes(4 * 1024 * 1024)
    await leader.snapshot(last, state)
    world.trace.length = 0
    setLaggingConnected(true)
    while (!received.has(lagging)) await pause(50)
    const sent = world.trace.filter((event) => event.kind === 'submit' && event.method === 'Raft.InstallSnapshot').map((event) => event.bytes)
    t.ok(sent.length >= 64, `the snapshot went in ${sent.length} messages`)
    t.ok(Math.max(...sent) <= chunkBytes + 256, `the largest was ${Math.max(...sent)} bytes (chunk ${chunkBytes})`)
    t.ok(Buffer.from(received.get(lagging) as Uint8Array).equals(Buffer.from(state)), 'the follower applied exactly the leader’s snapshot')
    t.equal(nodes.get(lagging)?.status().snapshotIndex, last, 'and its log starts after it')
    for (const raft of nodes.values()) await raft.stop()
  },
  { ...limits, trace: true },
)

simTest(
  t,
  'A lagging follower catches up while the leader keeps taking newer snapshots mid-transfer',
  async (world, t) => {
    const servers = 3
    // A snapshot after every command: each InstallSnapshot is overtaken by a newer snapshot.
    const cluster = await RaftCluster.create(world, servers, { snapshots: true, snapshotInterval: 1 })
    // Replies that arrive late let a heartbeat's answer overtake an InstallSnapshot's.
    world.network.setLatency(1, 20)
    cluster.setLongReordering(true)
    await cluster.one(1, servers, true)
    const leader = await cluster.checkOneLeader()
    const lagging = (leader + 1) % servers
    cluster.disconnect(lagging)
    for (let i = 0; i < 30; i++) await cluster.one(100 + i, servers - 1, true)
    cluster.connect(lagging)
    let stop = false
    const proposer = (async () => {
      for (let i = 0; !stop; i++) {
        cluster.start(leader, 1000 + i)
        await cluster.sleep(5)
      }
    })()
    await cluster.sleep(3000)
    stop = true
    await proposer
    const last = await cluster.one(99_999, servers, true)
    t.ok(cluster.nCommitted(last).count === servers, `the lagging follower applied index ${last} with the others`)
    cluster.cleanup()
    // 103, 105: the leader dropped a newer snapshot send asked for while an older one was in flight.
  },
  { ...limits, regressionSeeds: [103, 105] },
)
