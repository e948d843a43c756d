// Prometheus collectors for a RESP endpoint, fed by its commands$ and connections$: commands by name
// and outcome, their latency, and the clients connected.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { RespServer } from '../resp/server.js'
import { LATENCY_BUCKETS, type RegisteredMetrics, metricSet, unregisterOnStop } from './metric-set.js'

/** Registers a RESP endpoint's metrics (names start `lograft_resp_`) in `registry`. */
export function registerRespMetrics(registry: Registry, server: RespServer): RegisteredMetrics {
  const set = metricSet(registry)
  const { registers, names } = set
  const commands = new Counter({
    name: names('lograft_resp_commands_total'),
    help: 'RESP commands run, by name and outcome.',
    labelNames: ['command', 'outcome'],
    registers,
  })
  const latency = new Histogram({
    name: names('lograft_resp_command_seconds'),
    help: 'Time from a RESP command starting to run to its reply.',
    labelNames: ['command'],
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const connections = new Gauge({ name: names('lograft_resp_connections'), help: 'RESP clients connected.', registers })
  const subscriptions = [
    server.commands$.subscribe((event) => {
      commands.inc({ command: event.command, outcome: event.outcome })
      latency.observe({ command: event.command }, event.ms / 1000)
    }),
    server.connections$.subscribe((count) => connections.set(count)),
  ]
  return unregisterOnStop(registry, set.taken, subscriptions)
}
