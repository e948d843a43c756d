// `lograft node`: runs one KV replica until SIGINT/SIGTERM.

import { KvNode } from '../node/kv-node.js'
import { parsePeers } from '../node/peers.js'
import { untilShutdown } from './shutdown.js'
import { UsageError, parseFlags, requireInteger } from './usage.js'
import { NODE_USAGE } from './usage-text.js'

export async function nodeCommand(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      id: { type: 'string' },
      peers: { type: 'string' },
      data: { type: 'string' },
      resp: { type: 'string' },
      cluster: { type: 'string' },
      'max-raft-state': { type: 'string' },
      'max-value-bytes': { type: 'string' },
      supervised: { type: 'boolean', default: false },
    },
  })
  if (!values.id || !values.peers || !values.data) throw new UsageError(`node needs --id, --peers and --data\n  ${NODE_USAGE}`)
  const peers = parsePeers(values.peers)
  const node = await KvNode.start({
    id: values.id,
    peers,
    dataDirectory: values.data,
    ...(values.resp ? { respAddress: values.resp } : {}),
    ...(values.cluster ? { clusterId: values.cluster } : {}),
    maxRaftStateBytes: requireInteger('max-raft-state', values['max-raft-state'], 32 * 1024 * 1024),
    maxValueBytes: requireInteger('max-value-bytes', values['max-value-bytes'], 64 * 1024 * 1024, 1),
  })
  const self = peers.find((peer) => peer.id === values.id)
  process.stdout.write(`lograft node ${node.id} ready raft=${self?.address ?? ''} resp=${node.respPort === null ? '' : `${values.resp?.replace(/:\d+$/, '')}:${node.respPort}`}\n`)
  await untilShutdown(values.supervised)
  await node.stop()
}

