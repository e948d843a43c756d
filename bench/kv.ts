// Throughput, latency and CPU time per operation of lograft's Raft KV against etcd, both as three
// processes on loopback with synced writes. Each client owns one connection and sends a request,
// awaits the reply, and repeats, with 100-byte values (bench/kv-workload.ts):
//   SET              at 1, 16 and 64 clients, every SET of a key no one wrote before;
//   95% GET / 5% SET and 50% GET / 50% SET at 64 clients, over 1,000 keys written before the runs.
// The systems:
//   lograft  `lograft node` processes (classic-level, fsync) started by LocalCluster; RESP clients.
//   etcd     Debian's etcd-server, default fsync; clients on the HTTP/JSON gateway (kv/put, and
//            kv/range, linearizable as etcd's reads are by default).
// Clients are spread round-robin over the three members, as a client pool would be ("spread"),
// and, in a second variant, all sent to the leader ("leader"); both systems forward what reaches a
// follower and needs the leader.
// CPU ms/op is the three members' user+system CPU time (read from /proc/<pid>/stat) over the
// measured windows, divided by the requests completed in them: steadier than throughput on a
// machine whose 2 cores other work shares. The load generator's own CPU is in neither system's.
// etcd is installed with apt-get when missing and this is root; otherwise its rows are skipped.
//
// Run with `npm run bench:kv`; MEASURE_MS, WARMUP_MS (per row) and ROUNDS override the defaults.
// `npm run bench:kv -- --tls` adds a third system, lograft with mutual TLS between its members
// (certificates from a throwaway CA), measured in the same slices, and a table of its cost.
// `npm run bench:kv -- --metrics` adds lograft with --metrics on every node, each scraped every
// second, and a table of what monitoring costs.
// `npm run bench:kv -- --lease-reads` adds lograft with --lease-reads on every node (the leader
// serves reads on its lease, no heartbeat round per read batch), and a table of what that gains.
// LOGRAFT_CPU_PROFILE_DIR=DIR has each lograft node write a CPU profile to DIR when it stops.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureEtcd, startEtcd } from './kv-etcd.js'
import { type LoadOptions, type Samples, measureLoad, summarize } from './kv-load.js'
import { startLograft } from './kv-lograft.js'
import { type Cell, type Row, type Targeting, TARGETINGS, printComparison, printCost, printRows } from './kv-report.js'
import type { KvClient, KvSystem } from './kv-system.js'
import { PRELOADED_KEY_COUNT, preloadKeys, workloadLabel } from './kv-workload.js'
import { type CpuProbe, cpuProbe } from './process-cpu.js'
import { createTestPki } from '../src/testing/pki.js'

const WITH_TLS = process.argv.includes('--tls')
const WITH_METRICS = process.argv.includes('--metrics')
const WITH_LEASE_READS = process.argv.includes('--lease-reads')
const SCRAPE_INTERVAL_MS = 1000

const VALUE_BYTES = 100
const MEASURE_MS = Number(process.env.MEASURE_MS ?? 5000)
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 1000)
/** The measured time of a row is cut in this many slices, alternating between the systems. */
const ROUNDS = Number(process.env.ROUNDS ?? 4)
/** The rows, in order, with the goals of issue 16 for lograft's throughput over etcd's. */
const CELLS: readonly Cell[] = [
  { workload: { kind: 'set' }, clients: 1, throughputGoal: 1.3 },
  { workload: { kind: 'set' }, clients: 16 },
  { workload: { kind: 'set' }, clients: 64, throughputGoal: 3 },
  { workload: { kind: 'mixed', getFraction: 0.95 }, clients: 64, throughputGoal: 4 },
  { workload: { kind: 'mixed', getFraction: 0.5 }, clients: 64 },
]
/** The goal for lograft's CPU time per operation over etcd's, in every row. */
const CPU_GOAL = 0.5

/** A system under test and the probe of its members' CPU time (null where there is no /proc). */
interface Tested {
  system: KvSystem
  cpu: CpuProbe | null
}

const root = mkdtempSync(join(tmpdir(), 'lograft-bench-kv-'))
const tested: Tested[] = []
let cleaning: Promise<void> | null = null
const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    await Promise.all(tested.splice(0).map(({ system }) => system.stop()))
    rmSync(root, { recursive: true, force: true })
  })())
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the clusters and removing ${root}\n`)
    void cleanUp().finally(() => process.exit(130))
  })
}

/** Starts measuring `system`: its members' CPU probe, and the keys the mixed rows read, written. */
async function addSystem(system: KvSystem): Promise<void> {
  tested.push({ system, cpu: cpuProbe(system.memberPids) })
  await preloadKeys(system, Buffer.alloc(VALUE_BYTES, 0x5a))
}

/** Opens `clients` connections on `system`, round-robin over its members or all to its leader. */
async function connectClients(system: KvSystem, clients: number, targeting: Targeting): Promise<KvClient[]> {
  const leader = targeting === 'leader' ? await system.leader() : 0
  return Promise.all(Array.from({ length: clients }, (_, i) => system.connect(targeting === 'leader' ? leader : i % system.memberCount)))
}

/**
 * Every system in one row and one targeting. After a warm-up each, the systems take turns in
 * ROUNDS slices of the measured time, each going first in half the rounds, so a busy spell of the
 * machine (other work shares its 2 cores) falls on both alike rather than on one row.
 */
async function measureCell(cell: Cell, targeting: Targeting): Promise<Row[]> {
  const connected = await Promise.all(
    tested.map(async ({ system, cpu }) => ({ system, cpu, connections: await connectClients(system, cell.clients, targeting), windows: [] as Samples[] })),
  )
  try {
    const options = (round: number, cpu: CpuProbe | null, warmupMs: number, measureMs: number): LoadOptions => ({
      workload: cell.workload,
      valueBytes: VALUE_BYTES,
      warmupMs,
      measureMs,
      keyPrefix: `bench:${targeting}:${cell.clients}:${round}`,
      seed: round + 1,
      cpu,
    })
    for (const { connections } of connected) await measureLoad(connections, options(-1, null, WARMUP_MS, 0))
    for (let round = 0; round < ROUNDS; round++) {
      for (const { connections, cpu, windows } of round % 2 === 0 ? connected : [...connected].reverse()) {
        windows.push(await measureLoad(connections, options(round, cpu, 0, MEASURE_MS / ROUNDS)))
      }
    }
  } finally {
    await Promise.all(connected.flatMap(({ connections }) => connections.map((connection) => connection.close())))
  }
  return connected.map(({ system, windows }) => {
    const result = summarize(windows)
    process.stderr.write(
      `measured ${system.name} (${targeting}), ${workloadLabel(cell.workload)}, ${cell.clients} clients${result.errors > 0 ? `: ${result.errors} errors, first: ${result.firstError}` : ''}\n`,
    )
    return { system: system.name, targeting, cell, result }
  })
}

const loadBefore = loadavg()
const notes: string[] = []
const rows: Row[] = []
try {
  await addSystem(await startLograft(join(root, 'lograft')))
  if (WITH_TLS) {
    const pki = await createTestPki(join(root, 'pki'), ['1', '2', '3'])
    await addSystem(await startLograft(join(root, 'lograft-tls'), { tls: pki }))
    notes.push('lograft+mTLS: the same cluster with mutual TLS between its members (ECDSA P-256 certificates); clients on plain RESP')
  }
  if (WITH_METRICS) {
    await addSystem(await startLograft(join(root, 'lograft-metrics'), { metrics: { scrapeIntervalMs: SCRAPE_INTERVAL_MS } }))
    notes.push(`lograft+metrics: the same cluster serving --metrics, every node scraped every ${SCRAPE_INTERVAL_MS} ms`)
  }
  if (WITH_LEASE_READS) {
    await addSystem(await startLograft(join(root, 'lograft-lease'), { leaseReads: true }))
    notes.push('lograft+lease: the same cluster with --lease-reads on every node')
  }
  const etcd = ensureEtcd()
  if ('missing' in etcd) {
    notes.push(`etcd rows skipped: ${etcd.missing}`)
  } else {
    mkdirSync(join(root, 'etcd'))
    await addSystem(await startEtcd(join(root, 'etcd')))
    notes.push(`etcd ${etcd.version}, clients on its HTTP/JSON gateway`)
  }
  if (tested.some(({ cpu }) => cpu === null)) notes.push('CPU ms/op not measured: there is no /proc/<pid>/stat here')
  for (const cell of CELLS) {
    for (const targeting of TARGETINGS) rows.push(...(await measureCell(cell, targeting)))
  }
} finally {
  await cleanUp()
}
const loadAfter = loadavg()

const formatLoad = (load: number[]): string => load.map((value) => value.toFixed(2)).join(' ')
console.log(
  `GET and SET of ${VALUE_BYTES}-byte values on 3-member clusters on loopback, fsync on; ${MEASURE_MS} ms measured after ${WARMUP_MS} ms warm-up per row; ` +
    `the mixed rows over ${PRELOADED_KEY_COUNT} keys written beforehand`,
)
console.log("CPU ms/op: the three members' user+system CPU time in the measured windows over the requests completed in them")
for (const note of notes) console.log(note)
console.log(`load average (1/5/15 min): ${formatLoad(loadBefore)} before, ${formatLoad(loadAfter)} after`)
console.log()
printRows(rows)
if (rows.some((row) => row.system === 'etcd')) {
  console.log()
  printComparison(rows, CELLS, CPU_GOAL)
}
if (WITH_TLS) {
  console.log()
  printCost(rows, CELLS, 'lograft+mTLS', 'mTLS/plain')
}
if (WITH_METRICS) {
  console.log()
  printCost(rows, CELLS, 'lograft+metrics', 'metrics/plain')
}
if (WITH_LEASE_READS) {
  console.log()
  printCost(rows, CELLS, 'lograft+lease', 'lease/plain')
}
