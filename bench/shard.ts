// Moving a big shard between two 3-server groups of real processes on loopback, and what the move
// costs everyone else. A shard is filled with KEYS keys of VALUE_BYTES bytes through RESP, then
// moved to the other group with the controller's Move; the table gives the time until the new owner
// serves it (and until the old owner has deleted its copy), as MB/s of keys and values, and the
// p50/p99 latency of GET/SET to the other shards while it moves, next to the same workload with no
// move before and after, their ratios against the goals of issue 16 (during the move the other
// shards keep ≥ 80% of their throughput and a p99 ≤ 2× the no-move window's), and the longest
// event-loop stall of each group's servers in each window, as the servers themselves measure it
// (monitorEventLoopDelay, INFO's eventloop_delay_max_ms since CONFIG RESETSTAT), next to the most
// CPU time a server's main thread used between two checks 10 ms apart (eventloop_busy_max_ms): the
// stall also counts time the operating system left a server waiting for a CPU, the busy time only
// the server's own work, so together they say whether a long stall was long work or a crowded machine.
// Each window also gives the CPU the servers used (in cores) and how busy the whole machine was. Then
// the shard moves back with no clients, and its CPU per MB (over what the idle servers use anyway) is
// read against a floor measured in the same run (move-floor.ts): the speeds this machine's cores
// allow a move, with every core free, and with the clients still getting 80% of their throughput.
//
// Run with `npm run bench:shard`; KEYS, VALUE_BYTES, CLIENTS and BASELINE_MS override the defaults,
// and GROUP_ARGS adds arguments to every `lograft shard group` (e.g. "--max-chunk-bytes 1048576", or
// "--max-migration-rate 1000000" to see what a slower move leaves the other shards).

import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { infoFields } from '../src/cli/resp-probe.js'
import { LocalShardDeployment } from '../src/cli/shard-deployment.js'
import { type ShardProcess, respPortOf, shardLayout, shardLayoutPorts } from '../src/cli/shard-layout.js'
import { DEPLOYMENT_KEY_TO_SHARD } from '../src/node/shard-group-node.js'
import { RespClient } from '../src/resp/client.js'
import { DEFAULT_SHARD_COUNT } from '../src/shard/config.js'
import { DEFAULT_MAX_CHUNK_BYTES } from '../src/shard/group-server.js'
import { freePortBlock } from '../src/testing/ports.js'
import { type MoveFloor, measureMoveFloor } from './move-floor.js'
import { type CpuProbe, cpuProbe, machineCpuReading } from './process-cpu.js'
import { printTable } from './table.js'

const KEYS = Number(process.env.KEYS ?? 100_000)
const VALUE_BYTES = Number(process.env.VALUE_BYTES ?? 100)
/** Closed-loop clients of the latency workload, each on its own connection. */
const CLIENTS = Number(process.env.CLIENTS ?? 8)
/** The no-move window before the move. */
const BASELINE_MS = Number(process.env.BASELINE_MS ?? 5000)
/** Connections that fill the shard, each sending batches of pipelined SETs. */
const LOAD_CONNECTIONS = 32
const LOAD_BATCH = 50
/** Keys of the other shards that the latency workload reads and writes. */
const OTHER_KEYS = 1000
const MOVE_TIMEOUT_MS = 600_000
const GIDS = [100, 101] as const
const GROUP_ARGS = (process.env.GROUP_ARGS ?? '').split(' ').filter((word) => word !== '')
/** Bytes per migration chunk, as the group servers are told (GROUP_ARGS) or by default. */
const CHUNK_BYTES = GROUP_ARGS.includes('--max-chunk-bytes') ? Number(GROUP_ARGS[GROUP_ARGS.indexOf('--max-chunk-bytes') + 1]) : DEFAULT_MAX_CHUNK_BYTES
/** The idle cluster's own CPU (heartbeats, polls) is measured over this long, to be told apart from a move's. */
const IDLE_MS = 2000
/** Issue 16's goals for a move. */
const GOALS = { moveMBps: 30, throughputRatio: 0.8, p99Ratio: 2, stallMs: 20 }

interface Window {
  name: string
  latenciesMs: number[]
  elapsedMs: number
  errors: number
  /** The longest event-loop stall of any server of each group (GIDS' order) during the window, in ms. */
  stallsMs: number[]
  /** The most main-thread CPU time between two 10 ms checks of any server of each group (GIDS' order), in ms. */
  busyMs: number[]
  cpu: CpuUse
}

/** The CPU used in a stretch of time: by every lograft server together, and by the whole machine, as a share of all its cores. */
interface CpuUse {
  serverMs: number
  elapsedMs: number
  machineBusy: number
}

/** The cores the servers kept busy on average. */
function serverCores(use: CpuUse): number {
  return use.serverMs / use.elapsedMs
}

interface CpuReading {
  atMs: number
  serversMs: number
  machine: { busy: number; total: number } | null
}

function readCpu(servers: CpuProbe | null): CpuReading {
  return { atMs: performance.now(), serversMs: servers?.() ?? NaN, machine: machineCpuReading() }
}

function cpuSince(start: CpuReading, servers: CpuProbe | null): CpuUse {
  const end = readCpu(servers)
  const machineBusy = start.machine && end.machine ? (end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total) : NaN
  return { serverMs: end.serversMs - start.serversMs, elapsedMs: end.atMs - start.atMs, machineBusy }
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number)
}

function say(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** `count` keys that the deployment maps to `shard` (or, with `avoid`, to any other shard). */
function keysOf(shard: number, count: number, prefix: string, avoid = false): string[] {
  const keys: string[] = []
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}:${i}`
    if ((DEPLOYMENT_KEY_TO_SHARD(key, DEFAULT_SHARD_COUNT) === shard) !== avoid) keys.push(key)
  }
  return keys
}

async function connectAll(servers: readonly ShardProcess[], count: number): Promise<RespClient[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => RespClient.connect(respPortOf(servers[i % servers.length] as ShardProcess))))
}

/** Fills the shard: each connection takes every LOAD_CONNECTIONS-th key, in pipelined batches. */
async function load(connections: readonly RespClient[], keys: readonly string[], value: string): Promise<void> {
  await Promise.all(
    connections.map(async (connection, c) => {
      const mine = keys.filter((_, i) => i % connections.length === c)
      for (let at = 0; at < mine.length; at += LOAD_BATCH) {
        const replies = await connection.pipeline(mine.slice(at, at + LOAD_BATCH).map((key) => ['SET', key, value]))
        const failed = replies.find((reply) => reply.kind === 'error')
        if (failed?.kind === 'error') throw new Error(`loading failed: ${failed.prefix} ${failed.message}`)
      }
    }),
  )
}

/** Starts a new window of the servers' longest event-loop stall. */
async function resetStalls(servers: readonly ShardProcess[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      const client = await RespClient.connect(respPortOf(server))
      try {
        const reply = await client.call('CONFIG', 'RESETSTAT')
        if (reply.kind === 'error') throw new Error(`CONFIG RESETSTAT on ${server.id}: ${reply.prefix} ${reply.message}`)
      } finally {
        await client.close()
      }
    }),
  )
}

/**
 * The longest event-loop stall of any of `servers` since resetStalls, and the most main-thread CPU
 * time any of them used between two checks, as they measured them, in ms.
 */
async function longestStallAndWork(servers: readonly ShardProcess[]): Promise<{ stallMs: number; busyMs: number }> {
  const reports = await Promise.all(servers.map((server) => infoFields(respPortOf(server))))
  const field = (name: string): number =>
    Math.max(
      ...reports.map((fields, i) => {
        const value = Number(fields?.get(name))
        if (!Number.isFinite(value)) throw new Error(`${servers[i]?.id} reported no ${name}`)
        return value
      }),
    )
  return { stallMs: field('eventloop_delay_max_ms'), busyMs: field('eventloop_busy_max_ms') }
}

/** Closed-loop GET/SET on `keys` from every connection until `done` resolves; `groups` report their stalls after it. */
async function workload(
  name: string,
  connections: readonly RespClient[],
  keys: readonly string[],
  done: Promise<unknown>,
  groups: ReadonlyArray<readonly ShardProcess[]> = [],
  servers: CpuProbe | null = null,
): Promise<Window> {
  const window: Window = { name, latenciesMs: [], elapsedMs: 0, errors: 0, stallsMs: [], busyMs: [], cpu: { serverMs: NaN, elapsedMs: NaN, machineBusy: NaN } }
  const cpuAtStart = readCpu(servers)
  let finished = false
  void done.finally(() => (finished = true))
  const startedMs = performance.now()
  const value = 'w'.repeat(VALUE_BYTES)
  await Promise.all(
    connections.map(async (connection) => {
      while (!finished) {
        const key = keys[Math.floor(Math.random() * keys.length)] as string
        const sentMs = performance.now()
        const reply = await connection.call(...(Math.random() < 0.5 ? ['GET', key] : ['SET', key, value]))
        if (reply.kind === 'error') window.errors++
        else window.latenciesMs.push(performance.now() - sentMs)
      }
    }),
  )
  window.elapsedMs = performance.now() - startedMs
  window.cpu = cpuSince(cpuAtStart, servers)
  window.latenciesMs.sort((a, b) => a - b)
  const stalls = await Promise.all(groups.map((servers) => longestStallAndWork(servers)))
  window.stallsMs = stalls.map((stall) => stall.stallMs)
  window.busyMs = stalls.map((stall) => stall.busyMs)
  return window
}

function requestsPerSecond(window: Window): number {
  return window.latenciesMs.length / (window.elapsedMs / 1000)
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

const root = mkdtempSync(join(tmpdir(), 'lograft-bench-shard-'))
const serversPerGroup = 3
const counts = { controllerServers: 1, gids: GIDS, serversPerGroup, groupArgs: GROUP_ARGS }
const raftPorts = shardLayoutPorts(counts)
const base = await freePortBlock(raftPorts * 2)
const layout = shardLayout({ ...counts, dataDirectory: root, host: '127.0.0.1', raftBasePort: base, respBasePort: base + raftPorts })
const loadBefore = loadavg()
const deployment = await LocalShardDeployment.start(layout)
const connections: RespClient[] = []
let cleaning: Promise<void> | null = null
const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    await Promise.all(connections.map((connection) => connection.close()))
    await deployment.stop()
    rmSync(root, { recursive: true, force: true })
  })())
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the deployment and removing ${root}\n`)
    void cleanUp().finally(() => process.exit(130))
  })
}

try {
  await deployment.join(GIDS)
  const initial = await deployment.settle(MOVE_TIMEOUT_MS)
  const [from, to] = GIDS
  const shard = initial.shards.indexOf(from)
  const bigKeys = keysOf(shard, KEYS, 'big')
  const otherKeys = keysOf(shard, OTHER_KEYS, 'other', true)
  const shardBytes = bigKeys.reduce((total, key) => total + key.length + VALUE_BYTES, 0)

  say(`filling shard ${shard} (group ${from}) with ${KEYS} keys of ${VALUE_BYTES} bytes through RESP…`)
  const loadStartedMs = performance.now()
  const loaders = await connectAll(deployment.group(from).servers, LOAD_CONNECTIONS)
  connections.push(...loaders)
  await load(loaders, bigKeys, 'v'.repeat(VALUE_BYTES))
  await load(loaders, otherKeys, 'o'.repeat(VALUE_BYTES))
  const loadMs = performance.now() - loadStartedMs
  say(`filled in ${(loadMs / 1000).toFixed(1)} s (${((KEYS + OTHER_KEYS) / (loadMs / 1000)).toFixed(0)} SET/s)`)

  const clients = await connectAll([...deployment.group(from).servers, ...deployment.group(to).servers], CLIENTS)
  connections.push(...clients)
  await workload('warm-up', clients, otherKeys, pause(1000))
  const groups = GIDS.map((gid) => deployment.group(gid).servers)
  const allServers = groups.flat()
  const serversCpu = cpuProbe(
    [...layout.controllers, ...allServers].map((server) => {
      const pid = deployment.supervisor.pid(server.id)
      if (pid === null) throw new Error(`${server.id} is not running`)
      return pid
    }),
  )
  await resetStalls(allServers)
  const before = await workload('no move (before)', clients, otherKeys, pause(BASELINE_MS), groups, serversCpu)

  say(`moving shard ${shard} from group ${from} to group ${to}…`)
  const previous = await deployment.admin.query(-1)
  await resetStalls(allServers)
  const moveStartedMs = performance.now()
  const moved = (await deployment.admin.move(shard, to)).config
  let servedMs = NaN
  const settled = deployment.waitForConfig(previous, moved, MOVE_TIMEOUT_MS, (event) => {
    if (event.kind === 'served' && event.shards.includes(shard)) servedMs = performance.now() - moveStartedMs
  })
  const during = await workload('during the move', clients, otherKeys, settled, groups, serversCpu)
  await settled
  const settledMs = performance.now() - moveStartedMs
  await resetStalls(allServers)
  const after = await workload('no move (after)', clients, otherKeys, pause(Math.max(1000, settledMs)), groups, serversCpu)

  // The same move back, with the clients stopped, for what a move itself costs: the servers' CPU
  // over what the idle cluster uses on its own in as long.
  const idleAtStart = readCpu(serversCpu)
  await pause(IDLE_MS)
  const idleCores = serverCores(cpuSince(idleAtStart, serversCpu))
  say(`moving shard ${shard} back to group ${from}, with no clients…`)
  const beforeBack = await deployment.admin.query(-1)
  const backAtStart = readCpu(serversCpu)
  const movedBack = (await deployment.admin.move(shard, from)).config
  let backServedMs = NaN
  await deployment.waitForConfig(beforeBack, movedBack, MOVE_TIMEOUT_MS, (event) => {
    if (event.kind === 'served' && event.shards.includes(shard)) backServedMs = performance.now() - backAtStart.atMs
  })
  const back = cpuSince(backAtStart, serversCpu)
  await cleanUp()
  say('measuring the floor of a move on this machine…')
  const floor = await measureMoveFloor(bigKeys, VALUE_BYTES, CHUNK_BYTES)

  const loadAfter = loadavg()
  const mb = shardBytes / 1e6
  console.log(
    `moving shard ${shard} (${KEYS} keys × ${VALUE_BYTES} B values, ${mb.toFixed(1)} MB of keys and values) from a 3-server group to another, on loopback, fsync on`,
  )
  if (GROUP_ARGS.length > 0) console.log(`group servers run with ${GROUP_ARGS.join(' ')}`)
  console.log(`load average (1/5/15 min): ${loadBefore.map((v) => v.toFixed(2)).join(' ')} before, ${loadAfter.map((v) => v.toFixed(2)).join(' ')} after`)
  console.log()
  printTable(
    ['move', 'seconds', 'MB/s'],
    [
      ['until served by the new owner', (servedMs / 1000).toFixed(2), (mb / (servedMs / 1000)).toFixed(2)],
      ['until the old owner deleted it', (settledMs / 1000).toFixed(2), (mb / (settledMs / 1000)).toFixed(2)],
    ],
  )
  console.log()
  console.log(`GET/SET (50/50) to the other ${DEFAULT_SHARD_COUNT - 1} shards from ${CLIENTS} closed-loop clients over both groups' servers,`)
  console.log(`the longest event-loop stall of each group's servers in the window (monitorEventLoopDelay max: work, and waiting for a CPU),`)
  console.log(`and the most main-thread CPU time they used between two checks 10 ms apart (no single piece of work ran longer), measured in the servers:`)
  const baselineRate = requestsPerSecond(before)
  const baselineP99 = percentile(before.latenciesMs, 0.99)
  printTable(
    [
      'window',
      'seconds',
      'requests',
      'req/s',
      'vs no move',
      'p50 ms',
      'p99 ms',
      'p99 vs no move',
      'errors',
      ...GIDS.map((gid) => `stall ms, group ${gid}`),
      ...GIDS.map((gid) => `busy ms, group ${gid}`),
      "servers' CPU, cores",
      'machine CPU busy',
    ],
    [before, during, after].map((window) => [
      window.name,
      (window.elapsedMs / 1000).toFixed(1),
      String(window.latenciesMs.length),
      requestsPerSecond(window).toFixed(0),
      `${((100 * requestsPerSecond(window)) / baselineRate).toFixed(0)}%`,
      percentile(window.latenciesMs, 0.5).toFixed(2),
      percentile(window.latenciesMs, 0.99).toFixed(2),
      `${(percentile(window.latenciesMs, 0.99) / baselineP99).toFixed(2)}×`,
      String(window.errors),
      ...window.stallsMs.map((ms) => ms.toFixed(1)),
      ...window.busyMs.map((ms) => ms.toFixed(1)),
      serverCores(window.cpu).toFixed(2),
      `${(100 * window.cpu.machineBusy).toFixed(0)}%`,
    ]),
  )
  console.log()
  const moveMBps = mb / (servedMs / 1000)
  const throughputRatio = requestsPerSecond(during) / baselineRate
  const p99Ratio = percentile(during.latenciesMs, 0.99) / baselineP99
  const stallMs = Math.max(...during.stallsMs)
  const busyMs = Math.max(...during.busyMs)
  const met = (ok: boolean): string => (ok ? 'met' : 'NOT met')
  printTable(
    ['goal (issue 16)', 'target', 'measured', ''],
    [
      ['move speed, until served', `≥ ${GOALS.moveMBps} MB/s`, `${moveMBps.toFixed(2)} MB/s`, met(moveMBps >= GOALS.moveMBps)],
      [
        "other shards' throughput during the move",
        `≥ ${GOALS.throughputRatio * 100}%`,
        `${(throughputRatio * 100).toFixed(0)}%`,
        met(throughputRatio >= GOALS.throughputRatio),
      ],
      ["other shards' p99 during the move", `≤ ${GOALS.p99Ratio}× no move`, `${p99Ratio.toFixed(2)}×`, met(p99Ratio <= GOALS.p99Ratio)],
      ['longest event-loop stall during the move', `≤ ~${GOALS.stallMs} ms`, `${stallMs.toFixed(1)} ms`, met(stallMs <= GOALS.stallMs)],
      ['longest work on an event loop during the move', `≤ ~${GOALS.stallMs} ms`, `${busyMs.toFixed(1)} ms`, met(busyMs <= GOALS.stallMs)],
    ],
  )
  console.log()
  printFloor(floor, {
    mb,
    servedMs: backServedMs,
    settledMs: back.elapsedMs,
    moveCpuMsPerMB: (back.serverMs - idleCores * back.elapsedMs) / mb,
    idleCores,
    clientsBusy: before.cpu.machineBusy,
  })
} finally {
  await cleanUp()
}

/** What the move back, with no clients, measured. */
interface MoveAlone {
  mb: number
  servedMs: number
  settledMs: number
  /** The servers' CPU over the idle cluster's, until the old owner deleted the shard, per MB moved. */
  moveCpuMsPerMB: number
  idleCores: number
  /** The share of the machine busy in the no-move window before the move, with the clients running. */
  clientsBusy: number
}

/** The floor's steps, the move alone against their sum, and the speeds this machine's cores allow a move. */
function printFloor(floor: MoveFloor, alone: MoveAlone): void {
  const cores = cpus().length
  console.log(
    `the same move back, with no clients: served in ${(alone.servedMs / 1000).toFixed(2)} s (${(alone.mb / (alone.servedMs / 1000)).toFixed(2)} MB/s), ` +
      `the old owner's copy deleted in ${(alone.settledMs / 1000).toFixed(2)} s; the idle servers use ${alone.idleCores.toFixed(2)} cores between them`,
  )
  console.log('the least CPU a move into a 3-server group can cost: each server receives the bytes, writes them synced and maps them, measured now:')
  printTable(
    ['step', 'CPU ms per MB'],
    [
      ['loopback TCP to another process (sender and receiver)', floor.transferMsPerMB.toFixed(1)],
      [`classic-level puts of ${CHUNK_BYTES}-byte chunks, synced`, floor.syncedWriteMsPerMB.toFixed(1)],
      ['keys and values decoded into a Map', floor.keyMapMsPerMB.toFixed(1)],
      ['floor: 3 servers, each all three steps', floor.moveMsPerMB.toFixed(1)],
      [
        `the move back: servers' CPU over the idle cluster's (${(alone.moveCpuMsPerMB / floor.moveMsPerMB).toFixed(1)}× the floor)`,
        alone.moveCpuMsPerMB.toFixed(1),
      ],
    ],
  )
  // A closed-loop client load takes whatever CPU it is given; at 80% of its throughput it needs about
  // 80% of the CPU it had, and a move may have only what that leaves.
  const sparedCores = cores * (1 - GOALS.throughputRatio * alone.clientsBusy)
  const speed = (coresForMove: number, msPerMB: number): string => `${((coresForMove * 1000) / msPerMB).toFixed(1)} MB/s`
  printTable(
    [`fastest move on this machine's ${cores} cores`, 'cores for the move', "at the floor's cost", "at the move's cost"],
    [
      ['with every core free', cores.toFixed(2), speed(cores, floor.moveMsPerMB), speed(cores, alone.moveCpuMsPerMB)],
      [
        `with the clients at ${GOALS.throughputRatio * 100}% (machine ${(100 * alone.clientsBusy).toFixed(0)}% busy without a move)`,
        sparedCores.toFixed(2),
        speed(sparedCores, floor.moveMsPerMB),
        speed(sparedCores, alone.moveCpuMsPerMB),
      ],
    ],
  )
}
