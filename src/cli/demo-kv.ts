// `lograft demo` (what `npm start` runs): a 3-node KV cluster on LevelDB, a short workload over
// the Redis protocol, the leader killed with SIGKILL mid-way, a new leader taking over, the
// killed node restarted, and the whole recorded history checked for linearizability.

import { join } from 'node:path'
import { RespClient } from '../resp/client.js'
import { loadOrCreateLayout } from './cluster-command.js'
import { DemoWorkload, pause, say } from './demo-workload.js'
import { infoFields } from './resp-probe.js'
import { untilShutdown } from './shutdown.js'
import { LocalCluster, type LocalNode } from './supervisor.js'

const CLIENTS = 4
const KEYS = 5

function respPort(node: LocalNode): number {
  return Number(node.respAddress.replace(/^.*:/, ''))
}

async function findLeader(nodes: readonly LocalNode[], cluster: LocalCluster, timeoutMs: number): Promise<{ node: LocalNode; term: string } | null> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    for (const node of nodes) {
      if (!cluster.isRunning(node.id)) continue
      const fields = await infoFields(respPort(node))
      if (fields?.get('role') === 'leader') return { node, term: fields.get('term') ?? '?' }
    }
    await pause(50)
  }
  return null
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

  say(`\n== ${CLIENTS} clients run SET/APPEND/GET over RESP on ${KEYS} keys`)
  let connections = 0
  const workload = new DemoWorkload(CLIENTS, `demo-${Date.now().toString(36)}`, KEYS, async () => {
    const running = layout.nodes.filter((node) => cluster.isRunning(node.id))
    const node = running[connections++ % Math.max(1, running.length)]
    return node ? RespClient.connect(respPort(node)) : null
  })
  await pause(1500)
  say(`${workload.completed} operations so far`)

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
  await workload.stop()

  say('\n== checking the recorded history for linearizability')
  await workload.check(join(dataDirectory, 'demo', 'linearizability.html'), ' (in flight during the failover)')

  say(`\nthe cluster keeps running; try:  redis-cli -p ${respPort(layout.nodes[0] as LocalNode)}   (then: SET x 1, GET x, APPEND x 2, INFO)`)
  if (exitAfter) {
    await cluster.stopAll()
    return
  }
  say('Ctrl-C stops it')
  await untilShutdown(false)
  say('\nstopping…')
  await cluster.stopAll()
}
