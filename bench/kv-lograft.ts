// The lograft side of bench/kv.ts: the benchmarks' 3-member cluster (bench/lograft-cluster.ts:
// `lograft node` processes, classic-level, synced writes) and RESP clients that SET and GET through
// any node.

import { RespClient } from '../src/resp/client.js'
import type { RespReply } from '../src/resp/reply.js'
import type { KvClient, KvSystem } from './kv-system.js'
import { type LograftClusterOptions, startLograftCluster } from './lograft-cluster.js'

/** A node answered a GET or SET with something other than its success reply. */
export class LograftReplyError extends Error {
  readonly code = 'ERR_LOGRAFT_REPLY'
}

export async function startLograft(dataDirectory: string, options: LograftClusterOptions = {}): Promise<KvSystem> {
  const cluster = await startLograftCluster(dataDirectory, options)
  return {
    name: options.tls ? 'lograft+mTLS' : options.metrics ? 'lograft+metrics' : options.leaseReads ? 'lograft+lease' : 'lograft',
    memberCount: cluster.memberCount,
    memberPids: cluster.memberPids,
    leader: () => cluster.leader(),
    async connect(member) {
      return respKvClient(await RespClient.connect(cluster.respPort(member), cluster.host))
    },
    stop: () => cluster.stop(),
  }
}

/** GET and SET over one RESP connection. */
export function respKvClient(client: RespClient): KvClient {
  return {
    async get(key) {
      const reply = await client.call('GET', key)
      if (reply.kind !== 'bulk') throw new LograftReplyError(`GET ${key} got ${describe(reply)}`)
      return reply.value
    },
    async set(key, value) {
      const reply = await client.call('SET', key, value)
      if (reply.kind !== 'simple' || reply.value !== 'OK') throw new LograftReplyError(`SET ${key} got ${describe(reply)}`)
    },
    close: () => client.close(),
  }
}

function describe(reply: RespReply): string {
  switch (reply.kind) {
    case 'error':
      return `-${reply.prefix} ${reply.message}`
    case 'simple':
      return `+${reply.value}`
    case 'integer':
      return `:${reply.value}`
    case 'bulk':
      return reply.value === null ? 'nil' : `a bulk string of ${reply.value.length} bytes`
    case 'array':
      return reply.items === null ? 'a nil array' : `an array of ${reply.items.length}`
    default:
      return `a RESP3 ${reply.kind}`
  }
}
