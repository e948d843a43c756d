// The tallies (src/metrics/tallies.ts) stand in for prom-client's Counter and Histogram on the
// per-command paths: for the same events, a registry holding tallies must serve exactly what one
// holding prom-client's own classes serves, as text and as JSON, default labels included; and
// resetMetrics and removeSingleMetric must treat them as they treat prom-client's.

import { Counter, Histogram, Registry } from 'prom-client'
import t from 'tap'
import { Rng } from '../src/base/rng.js'
import { LATENCY_BUCKETS } from '../src/metrics/metric-set.js'
import { TallyCounter, TallyHistogram } from '../src/metrics/tallies.js'

const COMMANDS = ['get', 'set', 'del', 'unknown']
const OUTCOMES = ['ok', 'error']

interface Registries {
  tallied: Registry
  reference: Registry
  record: (rng: Rng, events: number) => void
}

/** Two registries fed the same events: one by tallies, one by prom-client's classes. */
function registries(): Registries {
  const tallied = new Registry()
  const reference = new Registry()
  for (const registry of [tallied, reference]) registry.setDefaultLabels({ node: '2' })
  const registers = [tallied]
  const counter = new TallyCounter({ name: 'test_commands_total', help: 'Commands.', labelNames: ['command', 'outcome'], registers })
  const histogram = new TallyHistogram({ name: 'test_command_seconds', help: 'Latency.', buckets: LATENCY_BUCKETS, labelNames: ['command'], registers })
  const unlabelled = new TallyHistogram({ name: 'test_write_seconds', help: 'Writes.', buckets: LATENCY_BUCKETS, registers })
  const referenceCounter = new Counter({ name: 'test_commands_total', help: 'Commands.', labelNames: ['command', 'outcome'], registers: [reference] })
  const referenceHistogram = new Histogram({
    name: 'test_command_seconds',
    help: 'Latency.',
    labelNames: ['command'],
    buckets: LATENCY_BUCKETS,
    registers: [reference],
  })
  const referenceUnlabelled = new Histogram({ name: 'test_write_seconds', help: 'Writes.', buckets: LATENCY_BUCKETS, registers: [reference] })
  const write = unlabelled.seriesOf()
  return {
    tallied,
    reference,
    record(rng, events) {
      for (let i = 0; i < events; i++) {
        const command = rng.pick(COMMANDS)
        const outcome = rng.pick(OUTCOMES)
        // Seconds from 10 µs to 20 s, bounds themselves included: a value equal to a bound is in its bucket.
        const seconds = rng.chance(0.1) ? rng.pick(LATENCY_BUCKETS) : 10 ** (rng.float() * 6.3 - 5)
        counter.inc(command, outcome)
        referenceCounter.inc({ command, outcome })
        histogram.seriesOf(command).observe(seconds)
        referenceHistogram.observe({ command }, seconds)
        write.observe(seconds / 2)
        referenceUnlabelled.observe(seconds / 2)
      }
    },
  }
}

/** The JSON form's metrics, each sample as its name, labels and value (prom-client adds fields of its own, such as exemplars). */
async function samples(registry: Registry): Promise<unknown[]> {
  return (await registry.getMetricsAsJSON()).map((metric) => ({
    name: metric.name,
    help: metric.help,
    type: metric.type,
    values: metric.values.map((value) => ({ name: 'metricName' in value ? value.metricName : metric.name, labels: value.labels, value: value.value })),
  }))
}

t.test('tallies serve what prom-client serves for the same events', async (t) => {
  const { tallied, reference, record } = registries()
  t.equal(await tallied.metrics(), await reference.metrics(), 'no events yet: the same text')
  record(new Rng(1), 5000)
  const text = await tallied.metrics()
  t.equal(text, await reference.metrics(), 'the same text, line for line')
  t.match(text, /test_command_seconds_bucket\{le="0\.0001",node="2",command="get"\} \d+/, 'a bucket carries its bound, its label and the default label')
  t.match(text, /test_write_seconds_count\{node="2"\} 5000/, 'every event counted')
  t.same(await samples(tallied), await samples(reference), 'the same JSON: names, types, and every sample with its labels')
  record(new Rng(2), 100)
  t.equal(await tallied.metrics(), await reference.metrics(), 'still the same after more events')
})

t.test('resetMetrics and removeSingleMetric treat tallies as prom-client metrics', async (t) => {
  const { tallied, reference, record } = registries()
  record(new Rng(3), 200)
  tallied.resetMetrics()
  reference.resetMetrics()
  record(new Rng(4), 50)
  t.equal(await tallied.metrics(), await reference.metrics(), 'counting starts again from zero')
  tallied.removeSingleMetric('test_command_seconds')
  t.notMatch(await tallied.metrics(), /test_command_seconds/, 'a removed tally is no longer served')
  t.match(await tallied.metrics(), /test_commands_total/, 'the others are')
})
