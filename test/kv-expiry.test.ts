// Keys expire by log time (issue 15): a key set with PX 1000 is gone on every replica once the log
// has moved past its deadline, with no client writing (the leader proposes the purge), and a
// follower restarted from its snapshot holds the same keys, deadlines and log time as the others.
// The reducer's own rules: expired keys read as missing before any purge, writes see them missing,
// and a later purge deletes only keys still due.

import t from 'tap'
import { sleep } from '../src/base/clock.js'
import { type KvCommand, KvState, kvMachine } from '../src/kv/kv.js'
import type { KvClerk } from '../src/kv/kv-clerk.js'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { KV_LATENCY_MS } from './helpers/kv-raft.js'
import { simTest } from './helpers/sim.js'

const machine = kvMachine({ appendReturnsOldValue: false })

function run(state: KvState, command: KvCommand, timeMs: number) {
  return machine.apply(state, command, { index: 0, term: 0, timeMs }).result
}

t.test('the reducer decides expiry by log time alone', async (t) => {
  const state = new KvState()
  run(state, { op: 'put', key: 'lease', value: 'a', expiry: { kind: 'in', ms: 1000 } }, 10_000)
  t.equal(state.deadlines.get('lease'), 11_000, 'the deadline is the entry time plus the TTL')
  t.match(run(state, { op: 'get', key: 'lease', value: '' }, 99_999), { found: true, value: 'a' }, "a read's clock does not expire a key: only log time does")
  run(state, { op: 'put', key: 'other', value: 'b' }, 11_000)
  t.match(run(state, { op: 'get', key: 'lease', value: '' }, 0), { found: false }, 'once a write moves log time to the deadline, it reads as missing')
  t.ok(state.entries.has('lease'), 'still held until a write to it or a purge')
  t.match(run(state, { op: 'put', key: 'lease', value: 'n', condition: 'nx' }, 5_000), { found: false }, 'a write sees it missing; log time never goes back')
  t.equal(state.deadlines.get('lease'), undefined, 'and the new value has no TTL')
  run(state, { op: 'put', key: 'x', value: '1', expiry: { kind: 'in', ms: 50 } }, 11_000)
  t.same(state.keysDueBy(11_049, 10), [], 'not due before its deadline')
  t.same(state.keysDueBy(11_050, 10), ['x'], 'due at it')
  run(state, { op: 'expire', key: 'x', value: '', expiry: { kind: 'in', ms: 1000 } }, 11_001)
  run(state, { op: 'purge', key: 'x', value: '' }, 11_060)
  t.ok(state.has('x'), 'a purge deletes only keys still due when it applies (x got a new TTL)')
  t.match(run(state, { op: 'ttl', key: 'x', value: '' }, 11_060), { integer: 941 })
  t.match(run(state, { op: 'ttl', key: 'lease', value: '' }, 0), { integer: -1 })
  t.match(run(state, { op: 'ttl', key: 'nothing', value: '' }, 0), { integer: -2 })
  const reads: KvCommand = {
    op: 'multi',
    key: '',
    value: '',
    commands: [
      { op: 'get', key: 'x', value: '' },
      { op: 'ttl', key: 'x', value: '' },
    ],
  }
  t.ok(machine.isReadOnly(reads), 'a transaction of reads alone is a read (pipelined GETs travel as one)')
  const clockBefore = state.clockMs
  run(state, reads, clockBefore + 50_000)
  t.equal(state.clockMs, clockBefore, "and applying it leaves log time alone, whatever the reader's clock")
  t.notOk(machine.isReadOnly({ ...reads, watches: [{ key: 'x', fingerprint: 'none' }] }), 'one that watches is logged')
  t.notOk(machine.isReadOnly({ ...reads, commands: [{ op: 'incr', key: 'x', value: '1' }] }), 'so is one that writes')
})

/** The KV state of every running server, as comparable values. */
function replicaStates(cluster: KvCluster): Array<{ name: string; entries: unknown; deadlines: unknown; clockMs: number }> {
  return cluster.servers.flatMap((server) => {
    if (!server) return []
    const state = server.replica.state
    return [{ name: server.name, entries: [...state.entries].sort(), deadlines: [...state.deadlines].sort(), clockMs: state.clockMs }]
  })
}

simTest(
  t,
  'AKeySetWithPX1000IsGoneOnEveryReplicaAndARestartedFollowerAgrees',
  async (world, t) => {
    const cluster = await KvCluster.create(world, { servers: 3, maxRaftStateBytes: 2000, latencyMs: KV_LATENCY_MS })
    const clerk: KvClerk = cluster.makeClient(cluster.all())
    await clerk.execute({ op: 'put', key: 'lease', value: 'holder-1', expiry: { kind: 'in', ms: 1000 } })
    // The entry's log time is before the put returned: its deadline is at most a second after that.
    const latestDeadline = world.clock.now() + 1000
    const deadline = Math.max(...cluster.servers.map((server) => server?.replica.state.deadlines.get('lease') ?? 0))
    t.ok(deadline > latestDeadline - 2000 && deadline <= latestDeadline, `the deadline, ${deadline}, is a second after the entry's log time`)
    await clerk.execute({ op: 'put', key: 'long', value: 'stays', expiry: { kind: 'in', ms: 600_000 } })
    t.equal(await clerk.get('lease'), 'holder-1', 'readable before its deadline')

    // Snapshots hold keys with their deadlines: enough writes for every server to take one.
    for (let i = 0; i < 60; i++) await clerk.put(`filler:${i}`, 'x'.repeat(50))
    const snapshots = cluster.servers.map((server) => server?.raft.status().snapshotIndex ?? 0)
    t.ok(
      snapshots.every((index) => index > 0),
      `every server took a snapshot (at ${snapshots.join(', ')})`,
    )
    const follower = cluster.servers.find((server) => server && server.raft.status().role !== 'leader')?.index ?? 0
    cluster.shutdownServer(follower)

    // Nobody writes now: the leader's purge is what moves the log past the deadline.
    await sleep(world.clock, Math.max(0, latestDeadline + 500 - world.clock.now()))
    // Followers learn of the purge's commit with the leader's next message.
    const leaderCommit = Math.max(...cluster.servers.map((server) => (server?.raft.status().role === 'leader' ? server.raft.status().commitIndex : 0)))
    for (let waitedMs = 0; waitedMs < 3000 && cluster.servers.some((server) => server && server.replica.appliedIndex < leaderCommit); waitedMs += 50)
      await sleep(world.clock, 50)
    for (const server of cluster.servers) {
      if (!server) continue
      t.notOk(server.replica.state.entries.has('lease'), `${server.name} purged the key`)
      t.ok(server.replica.state.clockMs >= deadline, `${server.name}'s log time is past the deadline`)
    }
    t.equal((await clerk.execute({ op: 'get', key: 'lease', value: '' })).found, false, 'a read finds it missing')

    await cluster.startServer(follower)
    cluster.connectAll()
    await sleep(world.clock, 2000)
    const states = replicaStates(cluster)
    t.equal(states.length, 3)
    for (const state of states.slice(1))
      t.same(state, { ...(states[0] as (typeof states)[0]), name: state.name }, `${state.name} agrees with ${states[0]?.name}`)
    const restarted = cluster.servers[follower]?.replica.state as KvState
    t.equal(restarted.getString('long'), 'stays', 'the restarted follower holds the key with the long TTL')
    t.ok(restarted.deadlines.has('long'), 'with its deadline')
    cluster.deleteClient(clerk)
    cluster.cleanup()
  },
  { maxVirtualMs: 120_000 },
)
