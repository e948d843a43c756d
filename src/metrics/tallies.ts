// Counters and histograms for events that come once per command: recording one is a map lookup
// and a few additions, and the series are turned into Prometheus values only when scraped.
// prom-client's Counter.inc and Histogram.observe check and hash the labels of every call (0.25
// and 0.4 µs each on this project's 2-core machine, more once its caches are cold), and
// prom-client takes no counts already tallied (prometheus/client_js#241). So these implement what
// its Registry reads from a metric (name, help, type, aggregator, labelNames, get,
// getForPromString, reset) and sit in the same registry as the rest, served by the same /metrics.

import type { Counter, Registry } from 'prom-client'

type Labels = Record<string, string | number>

/**
 * One sample as prom-client's Registry reads it: metricName defaults to the metric's name, and a
 * histogram's series labels go in sharedLabels for the text format (so they print after `le` and
 * the registry's default labels, as prom-client's own histograms print them).
 */
interface TallyValue {
  metricName?: string
  labels: Labels
  sharedLabels?: Labels
  value: number
}

interface CounterSeries {
  readonly labels: Labels
  value: number
}

/** What get() gives prom-client's Registry (its typings give `type` as a numeric enum; it reads the name). */
interface TallyValues {
  name: string
  help: string
  type: 'counter' | 'histogram'
  aggregator: 'sum'
  values: TallyValue[]
}

/** One series of a TallyHistogram: keep it, and observe on it. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is past the largest bound. */
  private readonly counts: Float64Array
  private sum = 0
  private count = 0

  constructor(
    private readonly upperBounds: readonly number[],
    readonly labels: Labels,
  ) {
    this.counts = new Float64Array(upperBounds.length + 1)
  }

  observe(value: number): void {
    let bucket = 0
    while (bucket < this.upperBounds.length && value > (this.upperBounds[bucket] as number)) bucket++
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1
    this.sum += value
    this.count++
  }

  values(name: string): TallyValue[] {
    const sample = (metricName: string, labels: Labels, value: number): TallyValue => ({ metricName, labels, sharedLabels: this.labels, value })
    const out: TallyValue[] = []
    let cumulative = 0
    this.upperBounds.forEach((bound, bucket) => {
      cumulative += this.counts[bucket] as number
      out.push(sample(`${name}_bucket`, { le: bound }, cumulative))
    })
    out.push(sample(`${name}_bucket`, { le: '+Inf' }, this.count))
    out.push(sample(`${name}_sum`, {}, this.sum))
    out.push(sample(`${name}_count`, {}, this.count))
    return out
  }

  reset(): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
  }
}

/** A histogram with at most one label; a series appears once it is first asked for. */
export class TallyHistogram {
  readonly type = 'histogram' as const
  readonly aggregator = 'sum' as const
  readonly name: string
  readonly help: string
  /** The label names, as prom-client's metrics declare theirs: none, or one. */
  readonly labelNames: readonly [] | readonly [string]
  private readonly upperBounds: readonly number[]
  private readonly series = new Map<string, HistogramSeries>()

  /** Like prom-client's Histogram, it puts itself in every registry of `registers`. */
  constructor(options: { name: string; help: string; buckets: readonly number[]; labelNames?: readonly [string]; registers: readonly Registry[] }) {
    this.name = options.name
    this.help = options.help
    this.upperBounds = options.buckets
    this.labelNames = options.labelNames ?? []
    register(this, options.registers)
  }

  /** The series of `labelValue` (of the only series, without a label); callers may keep it. */
  seriesOf(labelValue = ''): HistogramSeries {
    let series = this.series.get(labelValue)
    if (series === undefined) {
      const [labelName] = this.labelNames
      series = new HistogramSeries(this.upperBounds, labelName === undefined ? {} : { [labelName]: labelValue })
      this.series.set(labelValue, series)
    }
    return series
  }

  /** The text format's read (Registry.metrics). */
  getForPromString(): Promise<TallyValues> {
    const values = [...this.series.values()].flatMap((series) => series.values(this.name))
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values })
  }

  /** The JSON read (Registry.getMetricsAsJSON): each sample's series labels merged into its own. */
  async get(): Promise<TallyValues> {
    const metric = await this.getForPromString()
    metric.values = metric.values.map(({ sharedLabels, labels, ...value }) => ({ ...value, labels: { ...labels, ...sharedLabels } }))
    return metric
  }

  /** Zeroes every series (Registry.resetMetrics); the series kept by callers go on counting. */
  reset(): void {
    for (const series of this.series.values()) series.reset()
  }
}

/** A counter of events by up to two labels. */
export class TallyCounter {
  readonly type = 'counter' as const
  readonly aggregator = 'sum' as const
  readonly name: string
  readonly help: string
  /** The label names, as prom-client's metrics declare theirs. */
  readonly labelNames: readonly [string] | readonly [string, string]
  /** Series by first label value, then second ('' with one label): no key is built per event. */
  private readonly series = new Map<string, Map<string, CounterSeries>>()
  /** The same series in the order they first counted, the order prom-client serves them in. */
  private readonly inOrder: CounterSeries[] = []

  /** Like prom-client's Counter, it puts itself in every registry of `registers`. */
  constructor(options: { name: string; help: string; labelNames: readonly [string] | readonly [string, string]; registers: readonly Registry[] }) {
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labelNames
    register(this, options.registers)
  }

  inc(first: string, second = ''): void {
    let byFirst = this.series.get(first)
    if (byFirst === undefined) {
      byFirst = new Map()
      this.series.set(first, byFirst)
    }
    const series = byFirst.get(second)
    if (series !== undefined) {
      series.value++
      return
    }
    const [firstName, secondName] = this.labelNames
    const created = { labels: secondName === undefined ? { [firstName]: first } : { [firstName]: first, [secondName]: second }, value: 1 }
    byFirst.set(second, created)
    this.inOrder.push(created)
  }

  get(): Promise<TallyValues> {
    const values = this.inOrder.map(({ labels, value }) => ({ labels: { ...labels }, value }))
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values })
  }

  reset(): void {
    this.series.clear()
    this.inOrder.length = 0
  }
}

/**
 * Puts `tally` in each registry. prom-client types registerMetric for its own classes only; its
 * Registry reads no more of a metric than the tallies have.
 */
function register(tally: TallyHistogram | TallyCounter, registries: readonly Registry[]): void {
  for (const registry of registries) registry.registerMetric(tally as unknown as Counter)
}
