// Prometheus collectors for one Raft node, fed by its event streams (status$, leader$, progress$,
// timings$, rpcFailures$) and nothing else. Register them in your own prom-client Registry next to
// your service's metrics, or let `lograft node --metrics` serve them.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Subscription } from 'rxjs'
import type { FollowerProgress } from '../raft/events.js'
import type { RaftNode } from '../raft/node.js'
import type { Role } from '../raft/types.js'
import { LATENCY_BUCKETS, type RegisteredMetrics, metricSet, unregisterOnStop } from './metric-set.js'

const ROLES: readonly Role[] = ['follower', 'precandidate', 'candidate', 'leader']

/**
 * Registers a Raft node's metrics (names start `lograft_raft_`) in `registry`, fed by the node's
 * event streams. Call once per node and registry; stop() when the node stops.
 */
export function registerRaftMetrics(registry: Registry, raft: RaftNode): RegisteredMetrics {
  const set = metricSet(registry)
  const { registers, names } = set
  const term = new Gauge({ name: names('lograft_raft_term'), help: "The node's current term.", registers })
  const role = new Gauge({ name: names('lograft_raft_role'), help: "1 for the node's current role, 0 for the others.", labelNames: ['role'], registers })
  const hasLeader = new Gauge({ name: names('lograft_raft_has_leader'), help: '1 if the node knows a leader for its term.', registers })
  const leaderChanges = new Counter({ name: names('lograft_raft_leader_changes_total'), help: 'Times the node learned of a new leader.', registers })
  const commitIndex = new Gauge({ name: names('lograft_raft_commit_index'), help: 'Highest log index known to be committed.', registers })
  const appliedIndex = new Gauge({ name: names('lograft_raft_applied_index'), help: 'Highest log index handed to the state machine.', registers })
  const lastIndex = new Gauge({ name: names('lograft_raft_last_index'), help: "Index of the last entry in the node's log.", registers })
  const snapshotIndex = new Gauge({ name: names('lograft_raft_snapshot_index'), help: 'Last index the snapshot covers.', registers })
  const followerLabels = ['follower']
  const matchIndex = new Gauge({
    name: names('lograft_raft_follower_match_index'),
    help: "On the leader: each follower's match index.",
    labelNames: followerLabels,
    registers,
  })
  const lag = new Gauge({
    name: names('lograft_raft_follower_lag_entries'),
    help: 'On the leader: entries each follower lacks.',
    labelNames: followerLabels,
    registers,
  })
  const inflight = new Gauge({
    name: names('lograft_raft_follower_inflight'),
    help: 'On the leader: appends sent to each follower and unanswered.',
    labelNames: followerLabels,
    registers,
  })
  const lastContact = new Gauge({
    name: names('lograft_raft_follower_last_contact_seconds'),
    help: 'On the leader: seconds since each follower last answered, as of the last progress report.',
    labelNames: followerLabels,
    registers,
  })
  const snapshotSending = new Gauge({
    name: names('lograft_raft_follower_snapshot_sending'),
    help: 'On the leader: 1 while a snapshot is being sent to the follower.',
    labelNames: followerLabels,
    registers,
  })
  const logWrite = new Histogram({
    name: names('lograft_raft_log_write_seconds'),
    help: 'Durable (synced) log store writes.',
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const commit = new Histogram({
    name: names('lograft_raft_commit_seconds'),
    help: "On the leader: a command's proposal to its commitment.",
    buckets: LATENCY_BUCKETS,
    registers,
  })
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
  subscriptions.push(
    raft.status$.subscribe((status) => {
      term.set(status.term)
      for (const each of ROLES) role.set({ role: each }, each === status.role ? 1 : 0)
      hasLeader.set(status.leaderId === null ? 0 : 1)
      commitIndex.set(status.commitIndex)
      appliedIndex.set(status.appliedIndex)
      lastIndex.set(status.lastIndex)
      snapshotIndex.set(status.snapshotIndex)
    }),
  )
  let lastLeader: string | null = null
  subscriptions.push(
    raft.leader$.subscribe((leader) => {
      if (leader.leaderId !== null && leader.leaderId !== lastLeader) leaderChanges.inc()
      if (leader.leaderId !== null) lastLeader = leader.leaderId
    }),
  )
  // Followers' series exist only on the leader: they are dropped when it stops leading.
  subscriptions.push(
    raft.role$.subscribe((current) => {
      if (current === 'leader') return
      for (const gauge of [matchIndex, lag, inflight, lastContact, snapshotSending]) gauge.reset()
    }),
  )
  subscriptions.push(
    raft.progress$.subscribe((followers: readonly FollowerProgress[]) => {
      for (const gauge of [matchIndex, lag, inflight, lastContact, snapshotSending]) gauge.reset()
      for (const follower of followers) {
        const labels = { follower: follower.id }
        matchIndex.set(labels, follower.matchIndex)
        lag.set(labels, follower.lag)
        inflight.set(labels, follower.inflight)
        snapshotSending.set(labels, follower.snapshotSending ? 1 : 0)
        if (follower.sinceLastContactMs !== null) lastContact.set(labels, follower.sinceLastContactMs / 1000)
      }
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
