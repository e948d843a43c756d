// `lograft demo` (what `npm start` runs): a 3-node KV cluster on LevelDB, a short workload over
// the Redis protocol, the leader killed with SIGKILL mid-way, a new leader taking over, the
// killed node restarted, and the whole recorded history checked for linearizability.

import { join } from 'node:path'
import { RespClient } from '../resp/client.js'
import type { RespReply } from '../resp/reply.js'
import { type KvInput, type KvOutput, HistoryRecorder, checkOperations, formatReport, kvModel, writeHtmlReport } from '../testing/linearizability/index.js'
import { loadOrCreateLayout } from './cluster-command.js'
import { LocalCluster, type LocalNode } from './supervisor.js'

const CLIENTS = 4
const KEYS = 5

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function respPort(node: LocalNode): number {
  return Number(node.respAddress.replace(/^.*:/, ''))
}

function text(reply: RespReply): string {
  if (reply.kind === 'bulk') return reply.value === null ? '' : Buffer.from(reply.value).toString('latin1')
  if (reply.kind === 'error') throw new Error(`${reply.prefix} ${reply.message}`)
  return reply.kind === 'simple' ? reply.value : String(reply.kind === 'integer' ? reply.value : '')
}

/** INFO fields of one node, or null if it does not answer. */
async function info(node: LocalNode): Promise<Map<string, string> | null> {
  let client: RespClient | null = null
  try {
    client = await RespClient.connect(respPort(node))
    const reply = await Promise.race([client.call('INFO'), pause(1000).then(() => null)])
    if (!reply) return null
    return new Map(
      text(reply)
        .split(/\r?\n/)
        .filter((line) => line.includes(':'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)] as [string, string]),
    )
  } catch {
    return null
  } finally {
    await client?.close()
  }
}

async function findLeader(nodes: readonly LocalNode[], cluster: LocalCluster, timeoutMs: number): Promise<{ node: LocalNode; term: string } | null> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    for (const node of nodes) {
      if (!cluster.isRunning(node.id)) continue
      const fields = await info(node)
      if (fields?.get('role') === 'leader') return { node, term: fields.get('term') ?? '?' }
    }
    await pause(50)
  }
  return null
}

interface WorkloadStats {
  completed: number
  unknown: number
}

/** One client: random SET/APPEND/GET on a few keys through any running node, recording each operation. */
async function runClient(
  client: number,
  runId: string,
  cluster: LocalCluster,
  nodes: readonly LocalNode[],
  history: HistoryRecorder<KvInput, KvOutput>,
  stopped: () => boolean,
  stats: WorkloadStats,
): Promise<void> {
  let connection: RespClient | null = null
  let sequence = 0
  while (!stopped()) {
    if (!connection) {
      const running = nodes.filter((node) => cluster.isRunning(node.id))
      const node = running[(client + sequence) % Math.max(1, running.length)]
      try {
        connection = node ? await RespClient.connect(respPort(node)) : null
      } catch {
        connection = null
      }
      if (!connection) {
        await pause(50)
        continue
      }
    }
    const key = `${runId}:k${Math.floor(Math.random() * KEYS)}`
    const value = `${client}.${sequence++};`
    const choice = Math.random()
    const input: KvInput = choice < 0.2 ? { op: 'put', key, value } : choice < 0.6 ? { op: 'append', key, value } : { op: 'get', key, value: '' }
    const op = history.begin(client, input, performance.now())
    try {
      const words = input.op === 'put' ? ['SET', key, value] : input.op === 'append' ? ['APPEND', key, value] : ['GET', key]
      const reply = await connection.call(...words)
      if (reply.kind === 'error') throw new Error(`${reply.prefix} ${reply.message}`)
      op.end(input.op === 'get' ? { value: text(reply) } : undefined, performance.now())
      stats.completed++
    } catch {
      // The node died or could not reach a quorum in time: the outcome is unknown.
      op.giveUp()
      stats.unknown++
      await connection.close()
      connection = null
    }
  }
  await connection?.close()
}

export async function demoKv(dataDirectory: string, exitAfter: boolean): Promise<void> {
  const layout = loadOrCreateLayout(join(dataDirectory, 'demo'), {})
  const cluster = new LocalCluster(layout)
  say(`== starting a ${layout.nodes.length}-node lograft cluster (LevelDB under ${join(dataDirectory, 'demo')})`)
  await cluster.startAll()
  for (const node of layout.nodes) say(`node ${node.id}: raft ${node.raftAddress}, RESP ${node.respAddress}`)
  const first = await findLeader(layout.nodes, cluster, 10_000)
  if (!first) throw new Error('no leader was elected within 10 s')
  say(`node ${first.node.id} is leader (term ${first.term})`)

  const runId = `demo-${Date.now().toString(36)}`
  const history = new HistoryRecorder<KvInput, KvOutput>()
  const stats: WorkloadStats = { completed: 0, unknown: 0 }
  let stopped = false
  say(`\n== ${CLIENTS} clients run SET/APPEND/GET over RESP on ${KEYS} keys`)
  const clients = Array.from({ length: CLIENTS }, (_, client) => runClient(client, runId, cluster, layout.nodes, history, () => stopped, stats))
  await pause(1500)
  say(`${stats.completed} operations so far`)

  say(`\n== SIGKILL the leader, node ${first.node.id}`)
  const killedAt = performance.now()
  await cluster.kill(first.node.id)
  const next = await findLeader(
    layout.nodes.filter((node) => node.id !== first.node.id),
    cluster,
    10_000,
  )
  if (!next) throw new Error('no new leader within 10 s of the kill')
  say(`node ${next.node.id} took over as leader (term ${next.term}) ${(performance.now() - killedAt).toFixed(0)} ms after the kill`)
  await pause(1000)
  say(`restarting node ${first.node.id} from its data directory`)
  await cluster.start(first.node.id)
  await pause(1500)
  stopped = true
  await Promise.all(clients)

  say('\n== checking the recorded history for linearizability')
  const result = checkOperations(kvModel({ appendReturnsOld: false }), history.operations(), { timeoutMs: 30_000 })
  say(`${stats.completed} operations completed, ${stats.unknown} with unknown outcome (in flight during the failover)`)
  if (result.outcome === 'illegal') {
    const report = join(dataDirectory, 'demo', 'linearizability.html')
    await writeHtmlReport(result, report)
    say(formatReport(result))
    say(`NOT linearizable: timeline in ${report}`)
    process.exitCode = 1
  } else {
    say(`linearizable: ${result.outcome === 'ok' ? 'yes' : 'check timed out'} (${result.operationsTotal} operations on ${result.partitionsTotal} keys, checked in ${result.elapsedMs.toFixed(0)} ms)`)
  }

  say(`\nthe cluster keeps running; try:  redis-cli -p ${respPort(layout.nodes[0] as LocalNode)}   (then: SET x 1, GET x, APPEND x 2, INFO)`)
  if (exitAfter) {
    await cluster.stopAll()
    return
  }
  say('Ctrl-C stops it')
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  say('\nstopping…')
  await cluster.stopAll()
}
