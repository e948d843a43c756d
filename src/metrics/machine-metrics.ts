// Prometheus collectors for a replicated state machine, fed by its event streams: how proposals
// end and how long applying takes.

import type { Registry } from 'prom-client'
import type { ReplicatedStateMachine } from '../statemachine/runtime.js'
import { LATENCY_BUCKETS, type RegisteredMetrics, metricSet, unregisterOnStop } from './metric-set.js'
import { TallyCounter, TallyHistogram } from './tallies.js'

/** Registers a state machine's metrics (names start `lograft_machine_`) in `registry`. */
export function registerMachineMetrics<State, Command, Result>(registry: Registry, replica: ReplicatedStateMachine<State, Command, Result>): RegisteredMetrics {
  const set = metricSet(registry)
  const { registers, names } = set
  // Both come once per command or entry, so they are tallied (tallies.ts).
  const proposals = new TallyCounter({
    name: names('lograft_machine_proposals_total'),
    help: 'Commands executed on this node, by how they ended.',
    labelNames: ['outcome'],
    registers,
  })
  const apply = new TallyHistogram({
    name: names('lograft_machine_apply_seconds'),
    help: 'Time to apply one committed entry (or install a snapshot) to the state.',
    buckets: LATENCY_BUCKETS,
    labelNames: ['kind'],
    registers,
  })
  const subscriptions = [
    replica.proposals$.subscribe((outcome) => proposals.inc(outcome)),
    replica.applyTimings$.subscribe((timing) => apply.seriesOf(timing.kind).observe(timing.ms / 1000)),
  ]
  return unregisterOnStop(registry, set.taken, subscriptions)
}
