// Raft commit throughput and latency for a three-node cluster, at 1, 16 and 64 concurrent
// proposers. Each proposer loops: propose a 100-byte command on the leader, wait until the leader
// has applied it at that index, repeat. Latency is propose → applied on the leader, as the
// proposer sees it. Two setups:
//   in-process  three RaftNodes in this process on the simulated network (reliable, no delays)
//               on real time, each on memory-level: the cost of the protocol and the driver.
//   processes   three node processes (test/fixtures/raft-node-process) on loopback TCP, each on
//               classic-level with synced writes; the proposers call the leader's Control service.
//
// Then the floor the 1-proposer latency is read against: a raw classic-level write of one entry with
// sync; three of them at once on this disk, as the leader and both followers write an entry, until
// two are durable (a quorum: what an entry waits for before it counts); a loopback TCP round trip
// to another process (the leader's AppendEntries and the follower's answer); and the sum of the
// last two.
//
// Run with `npm run bench:raft`; MEASURE_MS and WARMUP_MS override the durations.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { openMemoryLog } from '../src/log/index.js'
import { RaftNode } from '../src/raft/index.js'
import { quorumSize } from '../src/raft/quorum.js'
import { SimClientEnd, SimNetwork, SimServer, SimTransport } from '../src/rpc/index.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { Rng } from '../src/base/rng.js'
import { AppliedLog } from '../test/helpers/applied-log.js'
import { ProcessCluster } from '../test/helpers/raft-processes.js'
import { connectToPeerProcess } from './peer-process.js'
import { quantile } from './stats.js'
import { printTable } from './table.js'

const PROPOSER_COUNTS = [1, 16, 64]
const COMMAND_BYTES = 100
const MEASURE_MS = Number(process.env.MEASURE_MS ?? 3000)
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 1000)
/** A proposal not applied by then counts as lost (it never is while the leader holds). */
const COMMIT_WAIT_MS = 5000
const LEADER_TIMEOUT_MS = 15_000
const LEADER_POLL_MS = 20
const NODE_IDS = ['n1', 'n2', 'n3']

/** A cluster under load: `commit` proposes on the leader and resolves once the leader applied it. */
interface BenchCluster {
  /** True if the command was applied at the index it was proposed at; false if it was lost. */
  commit(command: Uint8Array): Promise<boolean>
  close(): Promise<void>
}

/** Three RaftNodes in this process on a reliable SimNetwork driven by the system clock. */
async function inProcessCluster(): Promise<BenchCluster> {
  const network = new SimNetwork({ clock: systemClock, rng: new Rng(1) })
  const members = await Promise.all(
    NODE_IDS.map(async (id) => {
      const server = new SimServer()
      network.addServer(id, server)
      const ends = new Map<string, SimClientEnd>()
      for (const peer of NODE_IDS.filter((other) => other !== id)) {
        const end = network.makeEnd(`${id}->${peer}`, id, { asPeer: true })
        network.connect(end.name, peer)
        network.enable(end.name, true)
        ends.set(peer, end)
      }
      const transport = new SimTransport({ self: id, server, ends, clock: systemClock })
      const node = await RaftNode.create({ id, members: NODE_IDS, transport, store: await openMemoryLog(), clock: systemClock })
      const applied = new AppliedLog()
      node.committed$.subscribe((message) => applied.record(message.index, message.kind === 'command' ? message : null))
      node.start()
      return { node, applied }
    }),
  )
  const deadline = systemClock.now() + LEADER_TIMEOUT_MS
  let leader = members.find((member) => member.node.status().role === 'leader')
  while (!leader) {
    if (systemClock.now() > deadline) throw new Error(`no leader within ${LEADER_TIMEOUT_MS} ms`)
    await sleep(systemClock, LEADER_POLL_MS)
    leader = members.find((member) => member.node.status().role === 'leader')
  }
  const { node, applied } = leader
  return {
    async commit(command) {
      const proposed = node.propose(command)
      if (!proposed.isLeader) throw new Error(`${node.id} lost its leadership during the benchmark`)
      await applied.waitFor(proposed.index, COMMIT_WAIT_MS)
      const entry = applied.from(proposed.index, 1)[0]
      return entry?.index === proposed.index && entry.term === proposed.term
    },
    close: async () => {
      await Promise.all(members.map((member) => member.node.stop()))
    },
  }
}

/** Three node processes on loopback TCP with classic-level, proposing through the leader's Control service. */
async function processCluster(): Promise<BenchCluster> {
  const cluster = await ProcessCluster.start()
  const leader = await cluster.waitForLeader(cluster.ids, LEADER_TIMEOUT_MS)
  if (!leader) {
    await cluster.stop()
    throw new Error(`no leader within ${LEADER_TIMEOUT_MS} ms`)
  }
  return {
    commit: async (command) => (await cluster.commit(leader.id, command, COMMIT_WAIT_MS)).kind === 'committed',
    close: () => cluster.stop(),
  }
}

interface Measurement {
  commits: number
  lost: number
  elapsedMs: number
  latenciesMs: number[]
}

/** Runs `proposers` proposer loops on `cluster` for about `durationMs`. */
async function measure(cluster: BenchCluster, proposers: number, durationMs: number): Promise<Measurement> {
  const command = new Uint8Array(COMMAND_BYTES).fill(0x5a)
  const result: Measurement = { commits: 0, lost: 0, elapsedMs: 0, latenciesMs: [] }
  const started = systemClock.now()
  const proposer = async (): Promise<void> => {
    while (systemClock.now() - started < durationMs) {
      const proposedAtMs = systemClock.now()
      if (await cluster.commit(command)) {
        result.commits++
        result.latenciesMs.push(systemClock.now() - proposedAtMs)
      } else {
        result.lost++
      }
    }
  }
  await Promise.all(Array.from({ length: proposers }, proposer))
  result.elapsedMs = systemClock.now() - started
  return result
}

const setups: Array<{ label: string; start: () => Promise<BenchCluster> }> = [
  { label: 'in-process (SimNetwork, memory-level)', start: inProcessCluster },
  { label: 'processes (TCP, classic-level, sync)', start: processCluster },
]

const header = ['setup', 'proposers', 'commits/s', 'p50 ms', 'p99 ms']
const lines: string[][] = []
for (const setup of setups) {
  const cluster = await setup.start()
  try {
    for (const proposers of PROPOSER_COUNTS) {
      await measure(cluster, proposers, WARMUP_MS)
      const result = await measure(cluster, proposers, MEASURE_MS)
      const sorted = result.latenciesMs.sort((a, b) => a - b)
      const perSecond = (result.commits * 1000) / result.elapsedMs
      lines.push([setup.label, String(proposers), perSecond.toFixed(0), quantile(sorted, 0.5).toFixed(2), quantile(sorted, 0.99).toFixed(2)])
      process.stderr.write(`measured ${setup.label} with ${proposers} proposers${result.lost > 0 ? ` (${result.lost} proposals lost)` : ''}\n`)
    }
  } finally {
    await cluster.close()
  }
}
/**
 * Latencies of `count` rounds in which `databases` classic-level databases, in fresh directories on
 * the same disk, each put one entry with sync at once, as a leader and its followers do for one
 * entry: per round, how long until the `quorum`-th put was durable.
 */
async function syncWriteLatencies(count: number, databases: number, quorum: number): Promise<number[]> {
  const directories = Array.from({ length: databases }, () => mkdtempSync(join(tmpdir(), 'lograft-bench-fsync-')))
  const dbs = directories.map((directory) => new ClassicLevel<string, Uint8Array>(directory, { valueEncoding: 'view' }))
  const entry = new Uint8Array(COMMAND_BYTES + 24).fill(0x5a)
  const latencies: number[] = []
  try {
    for (const db of dbs) await db.open()
    for (let i = 0; i < count; i++) {
      const key = `entry:${String(i).padStart(12, '0')}`
      const startedMs = performance.now()
      // Pushed as each put completes, so in the order they became durable.
      const durableMs: number[] = []
      await Promise.all(dbs.map((db) => db.put(key, entry, { sync: true }).then(() => durableMs.push(performance.now() - startedMs))))
      latencies.push(durableMs[quorum - 1] as number)
    }
  } finally {
    for (const db of dbs) await db.close()
    for (const directory of directories) rmSync(directory, { recursive: true, force: true })
  }
  return latencies
}

/** An echo server in a process of its own, as a follower is: it prints its port, then echoes every byte back. */
const ECHO_PROCESS_SOURCE = `
const server = require('node:net').createServer((socket) => { socket.setNoDelay(true); socket.on('data', (chunk) => socket.write(chunk)) })
server.listen(0, '127.0.0.1', () => console.log(server.address().port))`

/** Latencies of `count` sequential 100-byte round trips on loopback TCP to an echo server in another process. */
async function loopbackRoundTrips(count: number): Promise<number[]> {
  const { peer: echo, socket } = await connectToPeerProcess('echo', ECHO_PROCESS_SOURCE)
  try {
    const payload = Buffer.alloc(COMMAND_BYTES, 0x5a)
    const latencies: number[] = []
    for (let i = 0; i < count; i++) {
      const startedMs = performance.now()
      let received = 0
      await new Promise<void>((resolve) => {
        const onData = (chunk: Buffer): void => {
          received += chunk.length
          if (received < payload.length) return
          socket.off('data', onData)
          resolve()
        }
        socket.on('data', onData)
        socket.write(payload)
      })
      latencies.push(performance.now() - startedMs)
    }
    socket.destroy()
    return latencies
  } finally {
    echo.kill()
  }
}

// The floor of one commit: the leader's and a follower's synced writes of the entry, in parallel, and
// one round trip between their processes. All three members write at once on this one disk, whose
// flushes partly queue behind each other, so the parallel writes are measured as they happen: three
// databases putting at once, until the second (a quorum of three) is durable.
const FLOOR_SAMPLES = Number(process.env.FLOOR_SAMPLES ?? 500)
const singleWrites = (await syncWriteLatencies(FLOOR_SAMPLES, 1, 1)).sort((a, b) => a - b)
const quorum = quorumSize(NODE_IDS.length)
const quorumWrites = (await syncWriteLatencies(FLOOR_SAMPLES, NODE_IDS.length, quorum)).sort((a, b) => a - b)
const roundTrips = (await loopbackRoundTrips(FLOOR_SAMPLES)).sort((a, b) => a - b)
const floorP50 = quantile(quorumWrites, 0.5) + quantile(roundTrips, 0.5)
const rateOf = (latencies: readonly number[]): string => (1000 / (latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length)).toFixed(0)
const floorRow = (label: string, latencies: readonly number[]): string[] => [
  label,
  '1',
  rateOf(latencies),
  quantile(latencies, 0.5).toFixed(2),
  quantile(latencies, 0.99).toFixed(2),
]
lines.push(floorRow('floor: classic-level put of one entry, sync', singleWrites))
lines.push(floorRow(`floor: ${NODE_IDS.length} such puts at once on this disk, until ${quorum} are durable`, quorumWrites))
lines.push(floorRow('floor: loopback TCP round trip to another process, 100 bytes', roundTrips))
lines.push([`floor: ${quorum} of ${NODE_IDS.length} puts + round trip`, '1', (1000 / floorP50).toFixed(0), floorP50.toFixed(2), '-'])
printTable(header, lines)
const processOne = lines.find((line) => line[0] === 'processes (TCP, classic-level, sync)' && line[1] === '1')
if (processOne)
  console.log(
    `\n1-proposer commit p50 on processes is ${(Number(processOne[3]) / floorP50).toFixed(2)}x the floor (${quorum} of ${NODE_IDS.length} parallel synced puts + a round trip between processes, ${floorP50.toFixed(2)} ms)`,
  )
