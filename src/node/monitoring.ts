// A node's monitoring: its own prom-client Registry holding the process's default metrics (event
// loop lag, heap, GC), its Raft node's and its state machine's collectors, and the HTTP port that
// serves them with /healthz and /readyz.

import { Registry, collectDefaultMetrics } from 'prom-client'
import type { Logger } from '../base/logger.js'
import { type MonitoringEndpoint, startMonitoringEndpoint } from '../metrics/http-endpoint.js'
import { registerMachineMetrics } from '../metrics/machine-metrics.js'
import type { RegisteredMetrics } from '../metrics/metric-set.js'
import { registerRaftMetrics } from '../metrics/raft-metrics.js'
import { ReadinessTracker } from '../metrics/readiness.js'
import type { Transport } from '../rpc/transport.js'
import type { ReplicatedStateMachine } from '../statemachine/runtime.js'
import { serveStatus } from './status-service.js'

/** A node's metrics and, when it was given an address, the port serving them. */
export interface NodeMonitoring {
  /** The node's registry: add your own collectors, or read it. */
  readonly registry: Registry
  readonly readiness: ReadinessTracker
  /** The monitoring port; null when the node serves none. */
  readonly port: number | null
  /** Closes the port and removes the node's collectors. */
  close(): Promise<void>
}

/** Where a node's monitoring hangs. */
export interface NodeMonitoringOptions<State, Command, Result> {
  replica: ReplicatedStateMachine<State, Command, Result>
  /** The node's own transport: Status.Get is served there. */
  transport: Transport
  clusterId: string
  /** Put on every series (the node's id, and its group's). */
  labels: Record<string, string>
  /** The HTTP port's "host:port"; none if undefined. */
  address: string | undefined
  logger: Logger
  /** More of the node's collectors (its RESP endpoint's, a shard group's), registered with the others. */
  collectors?: ReadonlyArray<(registry: Registry) => RegisteredMetrics>
}

/**
 * Registers the node's metrics (every series labelled with `labels`), serves Status.Get on its
 * transport for `lograft status`, and /metrics, /healthz and /readyz on `address` if given.
 */
export async function startNodeMonitoring<State, Command, Result>(options: NodeMonitoringOptions<State, Command, Result>): Promise<NodeMonitoring> {
  const { replica, labels, address, logger } = options
  const registry = new Registry()
  registry.setDefaultLabels(labels)
  collectDefaultMetrics({ register: registry })
  const registered: RegisteredMetrics[] = [
    registerRaftMetrics(registry, replica.raft),
    registerMachineMetrics(registry, replica),
    ...(options.collectors ?? []).map((register) => register(registry)),
  ]
  const readiness = new ReadinessTracker(replica.raft)
  serveStatus(options.transport, replica.raft, readiness, options.clusterId)
  let endpoint: MonitoringEndpoint | null = null
  try {
    if (address !== undefined)
      endpoint = await startMonitoringEndpoint(address, { registry, alive: () => readiness.alive, readiness: () => readiness.check() }, logger)
  } catch (error) {
    for (const each of registered) each.stop()
    readiness.stop()
    throw error
  }
  return {
    registry,
    readiness,
    port: endpoint?.port ?? null,
    close: async () => {
      await endpoint?.close()
      readiness.stop()
      for (const each of registered) each.stop()
    },
  }
}
