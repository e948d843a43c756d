// What every group of lograft's collectors shares: the registry they go in, the names they take
// (so that stop() can take them out again), and the latency buckets.

import type { Registry } from 'prom-client'
import type { Subscription } from 'rxjs'

/** Latency buckets in seconds, 100 µs to 10 s: a synced write on a fast disk to a stalled one. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** What the register*Metrics functions return: stop() unsubscribes from the node and removes the collectors. */
export interface RegisteredMetrics {
  /** Unsubscribes from the node and removes these collectors from the registry. */
  stop(): void
}

/** The registers option for prom-client's constructors, and a recorder of the names given. */
export function metricSet(registry: Registry): { registers: Registry[]; names: (name: string) => string; taken: readonly string[] } {
  const taken: string[] = []
  return {
    registers: [registry],
    names: (name) => {
      taken.push(name)
      return name
    },
    taken,
  }
}

/** Stops the subscriptions feeding the collectors named, and removes those from the registry. */
export function unregisterOnStop(registry: Registry, taken: readonly string[], subscriptions: readonly Subscription[]): RegisteredMetrics {
  return {
    stop: () => {
      for (const subscription of subscriptions) subscription.unsubscribe()
      for (const name of taken) registry.removeSingleMetric(name)
    },
  }
}
