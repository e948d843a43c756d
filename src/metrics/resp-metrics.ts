// Prometheus collectors for a RESP endpoint, fed by its commands$ and connections$: commands by name
// and outcome, their latency, and the clients connected.

import { Gauge, type Registry } from 'prom-client'
import type { RespServer } from '../resp/server.js'
import { LATENCY_BUCKETS, type RegisteredMetrics, metricSet, unregisterOnStop } from './metric-set.js'
import { TallyCounter, TallyHistogram } from './tallies.js'

/** Registers a RESP endpoint's metrics (names start `lograft_resp_`) in `registry`. */
export function registerRespMetrics(registry: Registry, server: RespServer): RegisteredMetrics {
  const set = metricSet(registry)
  const { registers, names } = set
  // Counted per command, so tallied (tallies.ts) rather than through prom-client's labelled calls.
  const commands = new TallyCounter({
    name: names('lograft_resp_commands_total'),
    help: 'RESP commands run, by name and outcome.',
    labelNames: ['command', 'outcome'],
    registers,
  })
  const latency = new TallyHistogram({
    name: names('lograft_resp_command_seconds'),
    help: 'Time from a RESP command starting to run to its reply.',
    buckets: LATENCY_BUCKETS,
    labelNames: ['command'],
    registers,
  })
  const connections = new Gauge({ name: names('lograft_resp_connections'), help: 'RESP clients connected.', registers })
  const subscriptions = [
    server.commands$.subscribe((event) => {
      commands.inc(event.command, event.outcome)
      latency.seriesOf(event.command).observe(event.ms / 1000)
    }),
    server.connections$.subscribe((count) => connections.set(count)),
  ]
  return unregisterOnStop(registry, set.taken, subscriptions)
}
