// Prometheus collectors for a shard group: which shards it holds in which status, and how far each
// incoming migration has come. Read from the group's state when scraped: the state is the fold's
// public result, and a migration's progress is a count in it, not an event.

import { Gauge, type Registry } from 'prom-client'
import type { GroupState } from '../shard/group-types.js'
import type { ShardStatus } from '../shard/shard-state.js'
import { type RegisteredMetrics, metricSet, unregisterOnStop } from './metric-set.js'

const STATUSES: readonly ShardStatus[] = ['serving', 'pulling', 'offering']

/** Registers a shard group's metrics (names start `lograft_shard_`) in `registry`; `state` reads the group's current state. */
export function registerShardGroupMetrics(registry: Registry, state: () => GroupState): RegisteredMetrics {
  const set = metricSet(registry)
  const { registers, names } = set
  new Gauge({
    name: names('lograft_shard_status'),
    help: '1 for each shard this group holds, labelled with its status (serving, pulling, offering).',
    labelNames: ['shard', 'status'],
    registers,
    collect() {
      this.reset()
      for (const [shard, held] of state().shards) for (const status of STATUSES) this.set({ shard: String(shard), status }, held.status === status ? 1 : 0)
    },
  })
  new Gauge({
    name: names('lograft_shard_migration_chunks'),
    help: 'Chunks of a shard received so far from its previous owner, while it is being pulled.',
    labelNames: ['shard'],
    registers,
    collect() {
      this.reset()
      for (const [shard, held] of state().shards) if (held.status === 'pulling') this.set({ shard: String(shard) }, held.transfer?.nextChunk ?? 0)
    },
  })
  new Gauge({
    name: names('lograft_shard_config_num'),
    help: 'The number of the shard configuration this group has reached.',
    registers,
    collect() {
      this.set(state().config.num)
    },
  })
  return unregisterOnStop(registry, set.taken, [])
}
