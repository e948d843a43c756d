// What a Raft node tells those who watch it (issue 14), on the simulated network: role$ and leader$
// follow an election after the leader crashes; the leader's progress$ shows a cut-off follower's
// lag rise and fall back to nothing once it is reconnected (by a snapshot if the log moved past
// it); timings$ reports log writes, commits and snapshots; and the Prometheus collectors built on
// these streams keep the metric names and label sets pinned below.

import { Registry } from 'prom-client'
import t from 'tap'
import { sleep } from '../src/base/clock.js'
import { registerMachineMetrics } from '../src/metrics/machine-metrics.js'
import { registerRaftMetrics } from '../src/metrics/raft-metrics.js'
import type { FollowerProgress, LeaderChange, RaftTiming } from '../src/raft/events.js'
import type { Role } from '../src/raft/types.js'
import type { SimWorld } from '../src/sim/world.js'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { simTest } from './helpers/sim.js'

const VALUE = 'v'.repeat(100)

async function waitForLeader(world: SimWorld, cluster: KvCluster, except: number | null = null): Promise<number> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const leader = cluster.leader()
    if (leader !== null && leader !== except) return leader
    await sleep(world.clock, 50)
  }
  throw new Error('no leader within 10 s of simulated time')
}

function server(cluster: KvCluster, i: number) {
  const running = cluster.servers[i]
  if (!running) throw new Error(`server ${i} is down`)
  return running
}

simTest(t, 'RoleLeaderProgressAndTimingsFollowTheCluster', async (world, t) => {
  const cluster = await KvCluster.create(world, { servers: 3, maxRaftStateBytes: 3000 })
  const roles = new Map<number, Role[]>()
  const leaders = new Map<number, LeaderChange[]>()
  for (const i of cluster.all()) {
    roles.set(i, [])
    leaders.set(i, [])
    server(cluster, i).raft.role$.subscribe((role) => roles.get(i)?.push(role))
    server(cluster, i).raft.leader$.subscribe((leader) => leaders.get(i)?.push(leader))
  }
  const clerk = cluster.makeClient(cluster.all())
  await clerk.put('first', 'write')
  const leader = await waitForLeader(world, cluster)
  const firstTerm = server(cluster, leader).raft.status().term
  t.equal(roles.get(leader)?.at(-1), 'leader', "the leader's role$ says leader")
  for (const i of cluster.all()) t.same(leaders.get(i)?.at(-1), { term: firstTerm, leaderId: cluster.serverName(leader) }, `server ${i}'s leader$ names it`)

  const progress: Array<readonly FollowerProgress[]> = []
  const timings: RaftTiming[] = []
  server(cluster, leader).raft.progress$.subscribe((followers) => progress.push(followers))
  server(cluster, leader).raft.timings$.subscribe((timing) => timings.push(timing))
  const follower = cluster.all().find((i) => i !== leader) as number
  const followerName = cluster.serverName(follower)
  cluster.partition(
    cluster.all().filter((i) => i !== follower),
    [follower],
  )
  for (let i = 0; i < 60; i++) await clerk.put(`key${i}`, VALUE)
  const lagWhileCut = Math.max(...progress.map((followers) => followers.find((each) => each.id === followerName)?.lag ?? 0))
  t.ok(lagWhileCut >= 60, `the cut-off follower's lag rose (to ${lagWhileCut})`)
  cluster.connectAll()
  await sleep(world.clock, 2000)
  const last = progress.at(-1)?.find((each) => each.id === followerName)
  t.equal(last?.lag, 0, 'and fell back to nothing once it was reconnected')
  t.equal(last?.matchIndex, server(cluster, leader).raft.status().lastIndex, "its match index is the leader's last index")
  t.equal(last?.state, 'replicate', 'the leader streams to it again')
  t.ok(last?.sinceLastContactMs !== null && (last?.sinceLastContactMs ?? Infinity) < 1000, 'and heard from it lately')
  const kinds = new Set(timings.map((timing) => timing.kind))
  t.ok(timings.filter((timing) => timing.kind === 'commit').length >= 60, 'a commit timing for each command the leader committed')
  t.ok(kinds.has('logWrite'), 'log writes are timed')
  t.ok(kinds.has('snapshot'), 'snapshots are timed')
  t.ok(
    timings.some((timing) => timing.kind === 'snapshotSent' && timing.to === followerName && timing.accepted),
    'the follower behind the snapshot got one, timed',
  )
  t.ok(
    timings.every((timing) => timing.ms >= 0),
    'no timing is negative',
  )

  cluster.shutdownServer(leader)
  const next = await waitForLeader(world, cluster, leader)
  const nextTerm = server(cluster, next).raft.status().term
  t.ok(nextTerm > firstTerm, `a later term (${nextTerm})`)
  t.equal(roles.get(next)?.at(-1), 'leader', "the new leader's role$ says leader")
  for (const i of cluster.all().filter((each) => each !== leader)) {
    t.same(leaders.get(i)?.at(-1), { term: nextTerm, leaderId: cluster.serverName(next) }, `server ${i}'s leader$ names the new leader`)
  }
  cluster.deleteClient(clerk)
  cluster.cleanup()
})

/** The names and label sets of lograft's own series: renaming one breaks dashboards, so it shows here first. */
const PINNED_SERIES = {
  lograft_machine_apply_seconds: ['kind'],
  lograft_machine_proposals_total: ['outcome'],
  lograft_raft_applied_index: [],
  lograft_raft_commit_index: [],
  lograft_raft_commit_seconds: [],
  lograft_raft_follower_inflight: ['follower'],
  lograft_raft_follower_lag_entries: ['follower'],
  lograft_raft_follower_last_contact_seconds: ['follower'],
  lograft_raft_follower_match_index: ['follower'],
  lograft_raft_follower_snapshot_sending: ['follower'],
  lograft_raft_has_leader: [],
  lograft_raft_last_index: [],
  lograft_raft_leader_changes_total: [],
  lograft_raft_log_write_seconds: [],
  lograft_raft_role: ['role'],
  lograft_raft_rpc_failures_total: ['code', 'method'],
  lograft_raft_snapshot_bytes: [],
  lograft_raft_snapshot_index: [],
  lograft_raft_snapshot_seconds: [],
  lograft_raft_snapshot_sends_total: ['outcome'],
  lograft_raft_snapshots_total: [],
  lograft_raft_term: [],
}

simTest(t, 'MetricsKeepTheirNamesAndLabels', async (world, t) => {
  const cluster = await KvCluster.create(world, { servers: 3, maxRaftStateBytes: 3000 })
  const clerk = cluster.makeClient(cluster.all())
  await clerk.put('first', 'write')
  const leader = await waitForLeader(world, cluster)
  const registry = new Registry()
  const raftMetrics = registerRaftMetrics(registry, server(cluster, leader).raft)
  const machineMetrics = registerMachineMetrics(registry, server(cluster, leader).replica)
  const follower = cluster.all().find((i) => i !== leader) as number
  cluster.partition(
    cluster.all().filter((i) => i !== follower),
    [follower],
  )
  for (let i = 0; i < 60; i++) await clerk.put(`key${i}`, VALUE)
  cluster.connectAll()
  await sleep(world.clock, 2000)
  const series = await registry.getMetricsAsJSON()
  const seen: Record<string, string[]> = {}
  for (const metric of series) {
    const labels = new Set<string>()
    for (const value of metric.values) for (const label of Object.keys(value.labels)) if (label !== 'le' && label !== 'quantile') labels.add(label)
    seen[metric.name] = [...labels].sort()
  }
  t.same(Object.keys(seen).sort(), Object.keys(PINNED_SERIES).sort(), 'the metric names')
  for (const [name, labels] of Object.entries(PINNED_SERIES)) {
    if (labels.length > 0) t.same(seen[name], labels, `${name}'s labels`)
  }
  const text = await registry.metrics()
  t.match(text, /lograft_raft_role\{role="leader"\} 1/, 'the leader says so')
  t.match(text, /lograft_machine_proposals_total\{outcome="applied"\} 6\d/, 'every command it applied is counted')
  t.match(text, /lograft_raft_snapshots_total [1-9]/, 'its snapshots are counted')
  raftMetrics.stop()
  machineMetrics.stop()
  t.equal((await registry.getMetricsAsJSON()).length, 0, 'stop() removes every collector')
  cluster.deleteClient(clerk)
  cluster.cleanup()
})
