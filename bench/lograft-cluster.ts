// A 3-member lograft cluster for the benchmarks: `lograft node` processes (classic-level, synced
// writes) started by the CLI's own LocalCluster on loopback, and where to reach each member's RESP
// endpoint, which member leads, and each member's process id (from its own INFO), whose CPU time
// bench/kv.ts reads. bench/kv-lograft.ts drives it with its own GET and SET clients, bench/redis.ts
// with redis-benchmark.
//
// With `metrics`, every node serves --metrics and this process scrapes each node's /metrics at the
// interval given, as Prometheus would (more often than its usual 15 s, to bound the cost from above).
//
// LOGRAFT_CPU_PROFILE_DIR, when set, has every node process write a V8 CPU profile there as it
// exits (bench/cpu-profile.ts), to see where a node spends its time; open it in Chrome DevTools.

import { mkdirSync } from 'node:fs'
import { LocalCluster, type LocalNode, localLayout } from '../src/cli/supervisor.js'
import { infoFields } from '../src/cli/resp-probe.js'
import { tlsArgs } from '../src/cli/tls-flags.js'
import { RespClient } from '../src/resp/client.js'
import { freePortBlock } from '../src/testing/ports.js'

const CPU_PROFILE_PRELOAD = new URL('./cpu-profile.js', import.meta.url).href
const MEMBER_COUNT = 3
const LEADER_TIMEOUT_MS = 15_000
const LEADER_POLL_MS = 50

export class LograftClusterError extends Error {
  readonly code = 'ERR_LOGRAFT_CLUSTER'
}

export interface LograftClusterOptions {
  /** Mutual TLS between the members (each node's certificate named by its id). */
  tls?: { caFile: string; certificates: Readonly<Record<string, { certFile: string; keyFile: string }>> }
  /** Serve --metrics on every node and scrape each this often. */
  metrics?: { scrapeIntervalMs: number }
  /** Start every node with --lease-reads: the leader reads on its lease, without a heartbeat round. */
  leaseReads?: boolean
}

/** A running cluster whose members are numbered 0..memberCount-1. */
export interface LograftCluster {
  /** The loopback address every member listens on. */
  readonly host: string
  readonly memberCount: number
  /** The process id of each member's `lograft node`, by member number. */
  readonly memberPids: readonly number[]
  /** The member whose INFO says it leads, polling until one does. */
  leader(): Promise<number>
  /** The TCP port of member `member`'s RESP endpoint. */
  respPort(member: number): number
  stop(): Promise<void>
}

export async function startLograftCluster(dataDirectory: string, options: LograftClusterOptions = {}): Promise<LograftCluster> {
  const host = '127.0.0.1'
  const base = await freePortBlock(2 * MEMBER_COUNT)
  const layout = localLayout(MEMBER_COUNT, dataDirectory, host, base, base + MEMBER_COUNT)
  const { tls, metrics, leaseReads } = options
  const metricsBase = metrics ? await freePortBlock(MEMBER_COUNT) : 0
  const metricsAddress = (id: string): string => `${host}:${metricsBase + Number(id) - 1}`
  const cluster = new LocalCluster(layout, [], undefined, (id) => {
    const issued = tls?.certificates[id]
    return [
      ...(tls && issued ? tlsArgs({ certFile: issued.certFile, keyFile: issued.keyFile, caFile: tls.caFile }) : []),
      ...(metrics ? ['--metrics', metricsAddress(id)] : []),
      ...(leaseReads ? ['--lease-reads'] : []),
    ]
  })
  const profileDirectory = process.env.LOGRAFT_CPU_PROFILE_DIR
  const ownNodeOptions = process.env.NODE_OPTIONS
  if (profileDirectory) {
    mkdirSync(profileDirectory, { recursive: true })
    process.env.CPU_PROFILE_DIR = profileDirectory
    process.env.NODE_OPTIONS = `${ownNodeOptions ?? ''} --import=${CPU_PROFILE_PRELOAD}`.trim()
  }
  // The nodes are spawned synchronously inside startAll, so they alone see the changed NODE_OPTIONS.
  const started = cluster.startAll()
  if (profileDirectory) restoreNodeOptions(ownNodeOptions)
  let memberPids: number[]
  try {
    await started
    memberPids = await Promise.all(layout.nodes.map(processId))
  } catch (error) {
    await cluster.stopAll()
    throw error
  }
  const scraper = metrics ? setInterval(() => void scrapeAll(layout.nodes.map((node) => metricsAddress(node.id))), metrics.scrapeIntervalMs) : null
  return {
    host,
    memberCount: MEMBER_COUNT,
    memberPids,
    leader: () => findLeader(layout.nodes, host),
    respPort: (member) => respPort(memberNode(layout.nodes, member)),
    stop: () => {
      if (scraper) clearInterval(scraper)
      return cluster.stopAll()
    },
  }
}

/** One scrape of every node's /metrics, read to the end as Prometheus would; failures are ignored. */
async function scrapeAll(addresses: readonly string[]): Promise<void> {
  await Promise.all(
    addresses.map((address) =>
      fetch(`http://${address}/metrics`).then(
        (response) => response.text(),
        () => '',
      ),
    ),
  )
}

function restoreNodeOptions(value: string | undefined): void {
  if (value === undefined) delete process.env.NODE_OPTIONS
  else process.env.NODE_OPTIONS = value
}

async function findLeader(nodes: readonly LocalNode[], host: string): Promise<number> {
  const deadlineMs = Date.now() + LEADER_TIMEOUT_MS
  while (Date.now() < deadlineMs) {
    for (const [index, node] of nodes.entries()) {
      const client = await RespClient.connect(respPort(node), host)
      try {
        const reply = await client.call('INFO', 'replication')
        if (reply.kind === 'bulk' && reply.value && /^role:leader\r?$/m.test(Buffer.from(reply.value).toString('utf8'))) return index
      } finally {
        await client.close()
      }
    }
    await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS))
  }
  throw new LograftClusterError(`no lograft node reported role:leader within ${LEADER_TIMEOUT_MS} ms`)
}

/** The process id a node reports in INFO (`process_id`, as Redis does). */
async function processId(node: LocalNode): Promise<number> {
  const reported = (await infoFields(respPort(node)))?.get('process_id')
  const pid = Number(reported)
  if (!Number.isInteger(pid) || pid <= 0) throw new LograftClusterError(`node ${node.id} reported no process_id in INFO (got ${reported ?? 'no answer'})`)
  return pid
}

function memberNode(nodes: readonly LocalNode[], member: number): LocalNode {
  const node = nodes[member]
  if (!node) throw new RangeError(`no lograft member ${member}; the cluster has ${nodes.length}`)
  return node
}

function respPort(node: LocalNode): number {
  return Number(node.respAddress.slice(node.respAddress.lastIndexOf(':') + 1))
}
