// Prometheus collectors for a replicated state machine, fed by its event streams: how proposals
// end and how long applying takes.

import { Counter, Histogram, type Registry } from 'prom-client'
import type { ReplicatedStateMachine } from '../statemachine/runtime.js'
import { LATENCY_BUCKETS, type RegisteredMetrics, metricSet, unregisterOnStop } from './metric-set.js'

/** Registers a state machine's metrics (names start `lograft_machine_`) in `registry`. */
export function registerMachineMetrics<State, Command, Result>(registry: Registry, replica: ReplicatedStateMachine<State, Command, Result>): RegisteredMetrics {
  const set = metricSet(registry)
  const { registers, names } = set
  const proposals = new Counter({
    name: names('lograft_machine_proposals_total'),
    help: 'Commands executed on this node, by how they ended.',
    labelNames: ['outcome'],
    registers,
  })
  const apply = new Histogram({
    name: names('lograft_machine_apply_seconds'),
    help: 'Time to apply one committed entry (or install a snapshot) to the state.',
    labelNames: ['kind'],
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const subscriptions = [
    replica.proposals$.subscribe((outcome) => proposals.inc({ outcome })),
    replica.applyTimings$.subscribe((timing) => apply.observe({ kind: timing.kind }, timing.ms / 1000)),
  ]
  return unregisterOnStop(registry, set.taken, subscriptions)
}
