// SET throughput and latency of lograft's Raft KV against etcd, both as three processes on
// loopback with synced writes, at 1, 16 and 64 concurrent clients. Each client owns one connection
// and sends SET, awaits the reply, and repeats, over distinct keys, with 100-byte values:
//   lograft  `lograft node` processes (classic-level, fsync) started by LocalCluster; RESP clients.
//   etcd     Debian's etcd-server, default fsync; clients on the HTTP/JSON gateway (kv/put).
// Clients are spread round-robin over the three members, as a client pool would be ("spread"),
// and, in a second variant, all sent to the leader ("leader"); both systems forward writes that
// reach a follower.
// etcd is installed with apt-get when missing and this is root; otherwise its rows are skipped.
//
// Run with `npm run bench:kv`; MEASURE_MS, WARMUP_MS (per row) and ROUNDS override the defaults.
// `npm run bench:kv -- --tls` adds a third system, lograft with mutual TLS between its members
// (certificates from a throwaway CA), measured in the same slices, and a table of its cost.
// `npm run bench:kv -- --metrics` adds lograft with --metrics on every node, each scraped every
// second, and a table of what monitoring costs.
// LOGRAFT_CPU_PROFILE_DIR=DIR has each lograft node write a CPU profile to DIR when it stops.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureEtcd, startEtcd } from './kv-etcd.js'
import { type KvSystem, type Measurement, type Samples, type SetClient, measureSets, summarize } from './kv-load.js'
import { startLograft } from './kv-lograft.js'
import { createTestPki } from '../src/testing/pki.js'
import { printTable } from './table.js'

const WITH_TLS = process.argv.includes('--tls')
const WITH_METRICS = process.argv.includes('--metrics')
const SCRAPE_INTERVAL_MS = 1000

const CLIENT_COUNTS = [1, 16, 64]
const VALUE_BYTES = 100
const MEASURE_MS = Number(process.env.MEASURE_MS ?? 5000)
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 1000)
/** The measured time of a row is cut in this many slices, alternating between the systems. */
const ROUNDS = Number(process.env.ROUNDS ?? 4)
/** The goal: lograft's throughput at least this many times etcd's, at these client counts. */
const GOALS = new Map([
  [1, 1],
  [64, 2],
])
const TARGETINGS = ['spread', 'leader'] as const
type Targeting = (typeof TARGETINGS)[number]

const root = mkdtempSync(join(tmpdir(), 'lograft-bench-kv-'))
const systems: KvSystem[] = []
let cleaning: Promise<void> | null = null
const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    await Promise.all(systems.splice(0).map((system) => system.stop()))
    rmSync(root, { recursive: true, force: true })
  })())
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the clusters and removing ${root}\n`)
    void cleanUp().finally(() => process.exit(130))
  })
}

/** Opens `clients` connections on `system`, round-robin over its members or all to its leader. */
async function connectClients(system: KvSystem, clients: number, targeting: Targeting): Promise<SetClient[]> {
  const leader = targeting === 'leader' ? await system.leader() : 0
  return Promise.all(Array.from({ length: clients }, (_, i) => system.connect(targeting === 'leader' ? leader : i % system.memberCount)))
}

/**
 * Every system at `clients` clients and one targeting. After a warm-up each, the systems take
 * turns in ROUNDS slices of the measured time, each going first in half the rounds, so a busy spell
 * of the machine (other work shares its 2 cores) falls on both alike rather than on one row.
 */
async function measureCell(clients: number, targeting: Targeting): Promise<Row[]> {
  const connected = await Promise.all(
    systems.map(async (system) => ({ system, connections: await connectClients(system, clients, targeting), windows: [] as Samples[] })),
  )
  try {
    const keyPrefix = (round: number | 'warmup'): string => `bench:${targeting}:${clients}:${round}`
    for (const { connections } of connected) {
      await measureSets(connections, { valueBytes: VALUE_BYTES, warmupMs: WARMUP_MS, measureMs: 0, keyPrefix: keyPrefix('warmup') })
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const { connections, windows } of round % 2 === 0 ? connected : [...connected].reverse()) {
        windows.push(await measureSets(connections, { valueBytes: VALUE_BYTES, warmupMs: 0, measureMs: MEASURE_MS / ROUNDS, keyPrefix: keyPrefix(round) }))
      }
    }
  } finally {
    await Promise.all(connected.flatMap(({ connections }) => connections.map((connection) => connection.close())))
  }
  return connected.map(({ system, windows }) => {
    const result = summarize(windows)
    process.stderr.write(
      `measured ${system.name} (${targeting}) with ${clients} clients${result.errors > 0 ? `: ${result.errors} errors, first: ${result.firstError}` : ''}\n`,
    )
    return { system: system.name, targeting, clients, result }
  })
}

interface Row {
  system: string
  targeting: Targeting
  clients: number
  result: Measurement
}

const loadBefore = loadavg()
const notes: string[] = []
const rows: Row[] = []
try {
  systems.push(await startLograft(join(root, 'lograft')))
  if (WITH_TLS) {
    const pki = await createTestPki(join(root, 'pki'), ['1', '2', '3'])
    systems.push(await startLograft(join(root, 'lograft-tls'), { tls: pki }))
    notes.push('lograft+mTLS: the same cluster with mutual TLS between its members (ECDSA P-256 certificates); clients on plain RESP')
  }
  if (WITH_METRICS) {
    systems.push(await startLograft(join(root, 'lograft-metrics'), { metrics: { scrapeIntervalMs: SCRAPE_INTERVAL_MS } }))
    notes.push(`lograft+metrics: the same cluster serving --metrics, every node scraped every ${SCRAPE_INTERVAL_MS} ms`)
  }
  const etcd = ensureEtcd()
  if ('missing' in etcd) {
    notes.push(`etcd rows skipped: ${etcd.missing}`)
  } else {
    mkdirSync(join(root, 'etcd'))
    systems.push(await startEtcd(join(root, 'etcd')))
    notes.push(`etcd ${etcd.version}, clients on its HTTP/JSON gateway`)
  }
  for (const clients of CLIENT_COUNTS) {
    for (const targeting of TARGETINGS) rows.push(...(await measureCell(clients, targeting)))
  }
} finally {
  await cleanUp()
}
const loadAfter = loadavg()

const formatLoad = (load: number[]): string => load.map((value) => value.toFixed(2)).join(' ')
console.log(`SET of ${VALUE_BYTES}-byte values to 3-member clusters on loopback, fsync on; ${MEASURE_MS} ms measured after ${WARMUP_MS} ms warm-up per row`)
for (const note of notes) console.log(note)
console.log(`load average (1/5/15 min): ${formatLoad(loadBefore)} before, ${formatLoad(loadAfter)} after`)
console.log()
printTable(
  ['system', 'clients', 'SET/s', 'p50 ms', 'p99 ms', 'errors'],
  rows.map(({ system, targeting, clients, result }) => [
    `${system} (${targeting})`,
    String(clients),
    result.setsPerSecond.toFixed(0),
    result.p50Ms.toFixed(2),
    result.p99Ms.toFixed(2),
    String(result.errors),
  ]),
)

const throughput = (system: string, targeting: Targeting, clients: number): number | undefined =>
  rows.find((row) => row.system === system && row.targeting === targeting && row.clients === clients)?.result.setsPerSecond
if (rows.some((row) => row.system === 'etcd')) {
  console.log()
  printTable(
    ['clients', 'lograft/etcd (spread)', 'lograft/etcd (leader)', 'goal', 'met (spread, leader)'],
    CLIENT_COUNTS.map((clients) => {
      const ratios = TARGETINGS.map((targeting) => (throughput('lograft', targeting, clients) ?? NaN) / (throughput('etcd', targeting, clients) ?? NaN))
      const goal = GOALS.get(clients)
      const met = goal === undefined ? '-' : ratios.map((ratio) => (ratio >= goal ? 'yes' : 'no')).join(', ')
      return [String(clients), ...ratios.map((ratio) => ratio.toFixed(2)), goal === undefined ? '-' : `>= ${goal}`, met]
    }),
  )
}

/** A table of `system`'s throughput over plain lograft's, per client count and targeting. */
function printCost(system: string, label: string): void {
  console.log()
  printTable(
    ['clients', `${label} (spread)`, `${label} (leader)`],
    CLIENT_COUNTS.map((clients) => [
      String(clients),
      ...TARGETINGS.map((targeting) => ((throughput(system, targeting, clients) ?? NaN) / (throughput('lograft', targeting, clients) ?? NaN)).toFixed(2)),
    ]),
  )
}
if (WITH_TLS) printCost('lograft+mTLS', 'mTLS/plain')
if (WITH_METRICS) printCost('lograft+metrics', 'metrics/plain')
