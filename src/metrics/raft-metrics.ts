// Prometheus collectors for one Raft node: its state (status, followers' progress) read when
// scraped, and its events (leader$, timings$, rpcFailures$) counted as they come. Register them in
// your own prom-client Registry next to your service's metrics, or let `lograft node --metrics`
// serve them.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Subscription } from 'rxjs'
import type { FollowerProgress } from '../raft/events.js'
import type { RaftNode } from '../raft/node.js'
import type { RaftStatus, Role } from '../raft/types.js'
import { LATENCY_BUCKETS, type RegisteredMetrics, metricSet, unregisterOnStop } from './metric-set.js'
import { TallyHistogram } from './tallies.js'

const ROLES: readonly Role[] = ['follower', 'precandidate', 'candidate', 'leader']

/**
 * Registers a Raft node's metrics (names start `lograft_raft_`) in `registry`: its state read when
 * scraped, its events as they come. Call once per node and registry; stop() when the node stops.
 */
export function registerRaftMetrics(registry: Registry, raft: RaftNode): RegisteredMetrics {
  const set = metricSet(registry)
  const { registers, names } = set
  // Gauges of state are read from the node when scraped (prom-client calls collect first), so a
  // node pays for them per scrape, not on each of the many status changes between two scrapes.
  const statusGauge = (name: string, help: string, read: (status: RaftStatus) => number): Gauge =>
    new Gauge({
      name: names(name),
      help,
      registers,
      collect() {
        this.set(read(raft.status()))
      },
    })
  statusGauge('lograft_raft_term', "The node's current term.", (status) => status.term)
  new Gauge({
    name: names('lograft_raft_role'),
    help: "1 for the node's current role, 0 for the others.",
    labelNames: ['role'],
    registers,
    collect() {
      const current = raft.status().role
      for (const each of ROLES) this.set({ role: each }, each === current ? 1 : 0)
    },
  })
  statusGauge('lograft_raft_has_leader', '1 if the node knows a leader for its term.', (status) => (status.leaderId === null ? 0 : 1))
  statusGauge('lograft_raft_commit_index', 'Highest log index known to be committed.', (status) => status.commitIndex)
  statusGauge('lograft_raft_applied_index', 'Highest log index handed to the state machine.', (status) => status.appliedIndex)
  statusGauge('lograft_raft_last_index', "Index of the last entry in the node's log.", (status) => status.lastIndex)
  statusGauge('lograft_raft_snapshot_index', 'Last index the snapshot covers.', (status) => status.snapshotIndex)
  const leaderChanges = new Counter({ name: names('lograft_raft_leader_changes_total'), help: 'Times the node learned of a new leader.', registers })
  // Followers' series exist only on the leader: each scrape starts them afresh from its progress.
  const followerGauge = (name: string, help: string, read: (follower: FollowerProgress) => number | null): Gauge<'follower'> =>
    new Gauge({
      name: names(name),
      help,
      labelNames: ['follower'],
      registers,
      collect() {
        this.reset()
        for (const follower of raft.replicationProgress()) {
          const value = read(follower)
          if (value !== null) this.set({ follower: follower.id }, value)
        }
      },
    })
  followerGauge('lograft_raft_follower_match_index', "On the leader: each follower's match index.", (follower) => follower.matchIndex)
  followerGauge('lograft_raft_follower_lag_entries', 'On the leader: entries each follower lacks.', (follower) => follower.lag)
  followerGauge('lograft_raft_follower_inflight', 'On the leader: appends sent to each follower and unanswered.', (follower) => follower.inflight)
  followerGauge('lograft_raft_follower_last_contact_seconds', 'On the leader: seconds since each follower last answered.', (follower) =>
    follower.sinceLastContactMs === null ? null : follower.sinceLastContactMs / 1000,
  )
  followerGauge('lograft_raft_follower_snapshot_sending', 'On the leader: 1 while a snapshot is being sent to the follower.', (follower) =>
    follower.snapshotSending ? 1 : 0,
  )
  // One log write per batch and one commit per command: tallied (tallies.ts), each one series.
  const logWrite = new TallyHistogram({
    name: names('lograft_raft_log_write_seconds'),
    help: 'Durable (synced) log store writes.',
    buckets: LATENCY_BUCKETS,
    registers,
  }).seriesOf()
  const commit = new TallyHistogram({
    name: names('lograft_raft_commit_seconds'),
    help: "On the leader: a command's proposal to its commitment.",
    buckets: LATENCY_BUCKETS,
    registers,
  }).seriesOf()
  const snapshots = new Counter({ name: names('lograft_raft_snapshots_total'), help: 'Snapshots this node stored from its state machine.', registers })
  const snapshotBytes = new Gauge({ name: names('lograft_raft_snapshot_bytes'), help: 'Size of the latest snapshot this node stored.', registers })
  const snapshotSeconds = new Histogram({
    name: names('lograft_raft_snapshot_seconds'),
    help: 'Time to store a snapshot.',
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const snapshotSends = new Counter({
    name: names('lograft_raft_snapshot_sends_total'),
    help: 'Whole snapshots sent to followers (InstallSnapshot).',
    labelNames: ['outcome'],
    registers,
  })
  const rpcFailures = new Counter({
    name: names('lograft_raft_rpc_failures_total'),
    help: 'Raft RPCs to peers that got no reply.',
    labelNames: ['method', 'code'],
    registers,
  })

  const subscriptions: Subscription[] = []
  let lastLeader: string | null = null
  subscriptions.push(
    raft.leader$.subscribe((leader) => {
      if (leader.leaderId !== null && leader.leaderId !== lastLeader) leaderChanges.inc()
      if (leader.leaderId !== null) lastLeader = leader.leaderId
    }),
  )
  subscriptions.push(
    raft.timings$.subscribe((timing) => {
      switch (timing.kind) {
        case 'logWrite':
          logWrite.observe(timing.ms / 1000)
          return
        case 'commit':
          commit.observe(timing.ms / 1000)
          return
        case 'snapshot':
          snapshots.inc()
          snapshotBytes.set(timing.bytes)
          snapshotSeconds.observe(timing.ms / 1000)
          return
        case 'snapshotSent':
          snapshotSends.inc({ outcome: timing.accepted ? 'accepted' : 'failed' })
          return
      }
    }),
  )
  subscriptions.push(raft.rpcFailures$.subscribe((failure) => rpcFailures.inc({ method: failure.method, code: failure.code })))

  return unregisterOnStop(registry, set.taken, subscriptions)
}
