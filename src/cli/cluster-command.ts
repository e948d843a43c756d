// `lograft cluster`: a local cluster of node processes. It remembers its layout in DIR/cluster.json,
// so running it again resumes the same nodes on the same data.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { newClusterId } from '../log/log-store.js'
import { LocalCluster, type LocalClusterLayout, localLayout } from './supervisor.js'
import { UsageError, parseFlags, requireInteger } from './usage.js'

interface SavedLayout {
  /** Made when the cluster is first created; every node's data directory records it. */
  clusterId: string
  nodes: number
  host: string
  port: number
  respPort: number
}

export function loadOrCreateLayout(dataDirectory: string, requested: Partial<SavedLayout>): LocalClusterLayout {
  const file = join(dataDirectory, 'cluster.json')
  const saved: SavedLayout | null = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SavedLayout) : null
  const layout: SavedLayout = {
    clusterId: saved?.clusterId ?? newClusterId(),
    nodes: requested.nodes ?? saved?.nodes ?? 3,
    host: requested.host ?? saved?.host ?? '127.0.0.1',
    port: requested.port ?? saved?.port ?? 7100,
    respPort: requested.respPort ?? saved?.respPort ?? 6380,
  }
  if (saved && saved.nodes !== layout.nodes) {
    throw new UsageError(`${dataDirectory} holds a ${saved.nodes}-node cluster; run with --nodes ${saved.nodes} or another --data`)
  }
  mkdirSync(dataDirectory, { recursive: true })
  writeFileSync(file, `${JSON.stringify(layout, null, 2)}\n`)
  return localLayout(layout.nodes, dataDirectory, layout.host, layout.port, layout.respPort, layout.clusterId)
}

export async function clusterCommand(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      nodes: { type: 'string' },
      data: { type: 'string', default: './data' },
      host: { type: 'string' },
      port: { type: 'string' },
      'resp-port': { type: 'string' },
    },
  })
  const layout = loadOrCreateLayout(values.data, {
    ...(values.nodes === undefined ? {} : { nodes: requireInteger('nodes', values.nodes, 3, 1) }),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.port === undefined ? {} : { port: requireInteger('port', values.port, 7100, 1) }),
    ...(values['resp-port'] === undefined ? {} : { respPort: requireInteger('resp-port', values['resp-port'], 6380, 1) }),
  })
  let stopping = false
  const cluster = new LocalCluster(layout, [], (id, code, signal, lastError) => {
    if (!stopping) process.stdout.write(`node ${id} exited (${signal ?? `code ${code}`})${lastError ? `: ${lastError}` : ''}\n`)
  })
  await cluster.startAll()
  process.stdout.write(`cluster ${layout.clusterId}\n`)
  for (const node of layout.nodes) {
    process.stdout.write(`node ${node.id}: raft ${node.raftAddress}, RESP ${node.respAddress}, data ${node.dataDirectory}\n`)
  }
  const firstResp = layout.nodes[0]?.respAddress ?? ''
  process.stdout.write(`\nconnect with: redis-cli -h ${firstResp.replace(/:\d+$/, '')} -p ${firstResp.replace(/^.*:/, '')}\n`)
  process.stdout.write(`Ctrl-C stops the cluster; running this command again resumes from ${values.data}\n`)
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  stopping = true
  process.stdout.write('\nstopping…\n')
  await cluster.stopAll()
  process.stdout.write('stopped\n')
}
