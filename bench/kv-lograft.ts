// The lograft side of bench/kv.ts: the benchmarks' 3-member cluster (bench/lograft-cluster.ts:
// `lograft node` processes, classic-level, synced writes) and RESP clients that SET through any node.

import { RespClient } from '../src/resp/client.js'
import type { RespReply } from '../src/resp/reply.js'
import type { KvSystem, SetClient } from './kv-load.js'
import { type LograftClusterOptions, startLograftCluster } from './lograft-cluster.js'

export class LograftSetError extends Error {
  readonly code = 'ERR_LOGRAFT_SET'
}

export async function startLograft(dataDirectory: string, options: LograftClusterOptions = {}): Promise<KvSystem> {
  const cluster = await startLograftCluster(dataDirectory, options)
  return {
    name: options.tls ? 'lograft+mTLS' : options.metrics ? 'lograft+metrics' : 'lograft',
    memberCount: cluster.memberCount,
    leader: () => cluster.leader(),
    async connect(member) {
      return respSetClient(await RespClient.connect(cluster.respPort(member), cluster.host))
    },
    stop: () => cluster.stop(),
  }
}

function respSetClient(client: RespClient): SetClient {
  return {
    async set(key, value) {
      const reply = await client.call('SET', key, value)
      if (reply.kind !== 'simple' || reply.value !== 'OK') throw new LograftSetError(`SET ${key} got ${describe(reply)}`)
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
