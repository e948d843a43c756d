// The Grafana dashboard in dashboards/ (issue 14) names only series a node exports: every metric in
// its queries is in the registry a node builds (lograft's collectors and prom-client's process
// metrics), histograms by their _bucket, _sum and _count series, and every label its legends use
// is on those series.

import { readFileSync } from 'node:fs'
import { Registry, collectDefaultMetrics } from 'prom-client'
import t from 'tap'
import { sleep } from '../src/base/clock.js'
import { registerMachineMetrics } from '../src/metrics/machine-metrics.js'
import { registerRaftMetrics } from '../src/metrics/raft-metrics.js'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { simTest } from './helpers/sim.js'

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string; legendFormat: string }> }>
}

const dashboard = JSON.parse(readFileSync(new URL('../../dashboards/lograft-grafana.json', import.meta.url), 'utf8')) as Dashboard
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/

simTest(t, 'TheDashboardNamesOnlyExportedSeries', async (world, t) => {
  const cluster = await KvCluster.create(world, { servers: 3 })
  const clerk = cluster.makeClient(cluster.all())
  await clerk.put('k', 'v')
  const leader = cluster.leader() as number
  const running = cluster.servers[leader]
  if (!running) throw new Error('no leader')
  const registry = new Registry()
  registry.setDefaultLabels({ node: running.name })
  collectDefaultMetrics({ register: registry })
  const raft = registerRaftMetrics(registry, running.raft)
  const machine = registerMachineMetrics(registry, running.replica)
  await sleep(world.clock, 500)
  const exported = new Map<string, { type: string; labels: Set<string> }>()
  for (const metric of await registry.getMetricsAsJSON()) {
    // A series with no observation yet has no values to read its labels from: its collector knows them.
    const declared = (registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? []
    const labels = new Set(['node', ...declared])
    for (const value of metric.values) for (const label of Object.keys(value.labels)) labels.add(label)
    exported.set(metric.name, { type: String(metric.type), labels })
  }
  t.ok(dashboard.panels.length > 0, `${dashboard.panels.length} panels`)
  for (const panel of dashboard.panels) {
    t.ok(panel.targets.length > 0, `"${panel.title}" has queries`)
    for (const target of panel.targets) {
      const names = [...target.expr.matchAll(/\b(lograft_|nodejs_|process_)[a-z0-9_]+/g)].map((match) => match[0])
      t.ok(names.length > 0, `"${panel.title}": ${target.expr} names a series`)
      const labelsHere = new Set<string>()
      for (const name of names) {
        const metric = exported.get(name) ?? (HISTOGRAM_SERIES.test(name) ? exported.get(name.replace(HISTOGRAM_SERIES, '')) : undefined)
        t.ok(metric, `"${panel.title}": ${name} is exported`)
        if (metric && metric !== exported.get(name)) t.equal(metric.type, 'histogram', `${name} is a histogram's series`)
        for (const label of metric?.labels ?? []) labelsHere.add(label)
      }
      for (const [, label] of target.legendFormat.matchAll(/\{\{(\w+)\}\}/g)) {
        t.ok(labelsHere.has(label as string), `"${panel.title}": the legend's {{${label}}} is a label of ${names.join(', ')}`)
      }
    }
  }
  raft.stop()
  machine.stop()
  cluster.deleteClient(clerk)
  cluster.cleanup()
})
