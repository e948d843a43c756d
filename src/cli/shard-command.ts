// `lograft shard`: the sharded KV's processes (a controller replica, a group replica), its admin
// commands, and its demo.

import { LOG_FLAG_OPTIONS, loggerFromFlags } from './log-flags.js'
import { METRICS_FLAG_OPTIONS, metricsFromFlags, metricsReadyField } from './metrics-flags.js'
import { parsePeers, type Peer } from '../node/peers.js'
import { ShardControllerNode } from '../node/shard-controller-node.js'
import { ShardGroupNode } from '../node/shard-group-node.js'
import { addressList, joinCommand, singleAddress, leaveCommand, moveCommand, queryCommand } from './shard-admin.js'
import { demoShard } from './shard-demo.js'
import { runUntilShutdownOrFailure } from './shutdown.js'
import { MEMBERSHIP_FLAG_OPTIONS, membershipFromFlags } from './membership-flags.js'
import { RESP_SECURITY_FLAG_OPTIONS, TLS_FLAG_OPTIONS, respSecurityFromFlags, tlsFromFlags } from './tls-flags.js'
import { UsageError, maxRaftStateFromFlags, parseFlags, requireInteger } from './usage.js'
import { SHARD_USAGE } from './usage-text.js'

function usageLine(command: string): string {
  return SHARD_USAGE.split('\n')
    .filter((line, i, lines) => line.startsWith(`lograft shard ${command} `) || (line.startsWith(' ') && lines[i - 1]?.startsWith(`lograft shard ${command} `)))
    .join('\n  ')
}

/** A bad --peers is bad input: it is reported as a usage error. */
function peersFlag(text: string): Peer[] {
  try {
    return parsePeers(text)
  } catch (error) {
    throw new UsageError(`--peers: ${(error as Error).message}`)
  }
}

export async function shardCommand(args: string[]): Promise<void> {
  const [what, ...rest] = args
  switch (what) {
    case 'controller':
      return controllerCommand(rest)
    case 'group':
      return groupCommand(rest)
    case 'join':
      return joinCommand(rest, usageLine('join'))
    case 'leave':
      return leaveCommand(rest, usageLine('leave'))
    case 'move':
      return moveCommand(rest, usageLine('move'))
    case 'query':
      return queryCommand(rest, usageLine('query'))
    case 'demo': {
      const { values } = parseFlags({
        args: rest,
        strict: true,
        options: { data: { type: 'string', default: './data' }, exit: { type: 'boolean', default: false } },
      })
      return demoShard(values.data, values.exit)
    }
    default:
      throw new UsageError(`unknown shard command "${what ?? ''}"\n${SHARD_USAGE}`)
  }
}

async function controllerCommand(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      id: { type: 'string' },
      peers: { type: 'string' },
      ...MEMBERSHIP_FLAG_OPTIONS,
      data: { type: 'string' },
      'max-raft-state': { type: 'string' },
      'cluster-id': { type: 'string' },
      ...TLS_FLAG_OPTIONS,
      ...METRICS_FLAG_OPTIONS,
      ...LOG_FLAG_OPTIONS,
      supervised: { type: 'boolean', default: false },
    },
  })
  if (!values.id || !values.data) throw new UsageError(`shard controller needs --id and --data\n  ${usageLine('controller')}`)
  const tls = await tlsFromFlags(values)
  const node = await ShardControllerNode.start({
    id: values.id,
    ...membershipFromFlags(values, peersFlag),
    dataDirectory: values.data,
    ...maxRaftStateFromFlags(values),
    ...(values['cluster-id'] ? { clusterId: values['cluster-id'] } : {}),
    ...(tls ? { tls } : {}),
    ...metricsFromFlags(values),
    logger: loggerFromFlags(values, { node: values.id, role: 'controller' }),
  })
  process.stdout.write(`lograft shard controller ${node.id} ready raft=${node.address}${metricsReadyField(values, node.monitoring.port)}\n`)
  await runUntilShutdownOrFailure(values.supervised, node)
}

async function groupCommand(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      gid: { type: 'string' },
      id: { type: 'string' },
      peers: { type: 'string' },
      ...MEMBERSHIP_FLAG_OPTIONS,
      data: { type: 'string' },
      controller: { type: 'string' },
      resp: { type: 'string' },
      'max-raft-state': { type: 'string' },
      'max-chunk-bytes': { type: 'string' },
      'max-chunks-in-flight': { type: 'string' },
      'max-migration-rate': { type: 'string' },
      'cluster-id': { type: 'string' },
      ...TLS_FLAG_OPTIONS,
      ...RESP_SECURITY_FLAG_OPTIONS,
      ...METRICS_FLAG_OPTIONS,
      ...LOG_FLAG_OPTIONS,
      supervised: { type: 'boolean', default: false },
    },
  })
  if (!values.gid || !values.id || !values.data || !values.controller) {
    throw new UsageError(`shard group needs --gid, --id, --data and --controller\n  ${usageLine('group')}`)
  }
  const tls = await tlsFromFlags(values)
  const respSecurity = await respSecurityFromFlags(values)
  if (respSecurity.respTls && !tls) throw new UsageError("--resp-tls serves RESP with the node's certificate: give --tls-cert, --tls-key and --tls-ca too")
  const node = await ShardGroupNode.start({
    gid: requireInteger('gid', values.gid, 0, 1),
    id: values.id,
    ...membershipFromFlags(values, peersFlag),
    dataDirectory: values.data,
    controllers: addressList('controller', values.controller),
    ...(values.resp ? { respAddress: singleAddress('resp', values.resp) } : {}),
    ...maxRaftStateFromFlags(values),
    ...(values['max-chunk-bytes'] === undefined ? {} : { maxChunkBytes: requireInteger('max-chunk-bytes', values['max-chunk-bytes'], 0, 1) }),
    ...(values['max-chunks-in-flight'] === undefined
      ? {}
      : { maxChunksInFlight: requireInteger('max-chunks-in-flight', values['max-chunks-in-flight'], 0, 1) }),
    ...(values['max-migration-rate'] === undefined
      ? {}
      : { maxMigrationBytesPerSecond: requireInteger('max-migration-rate', values['max-migration-rate'], 0, 1) }),
    ...(values['cluster-id'] ? { clusterId: values['cluster-id'] } : {}),
    ...(tls ? { tls } : {}),
    ...respSecurity,
    ...metricsFromFlags(values),
    logger: loggerFromFlags(values, { node: values.id, gid: values.gid }),
  })
  const resp = node.respPort === null ? '' : `${values.resp?.replace(/:\d+$/, '')}:${node.respPort}`
  process.stdout.write(`lograft shard group ${node.gid}/${node.id} ready raft=${node.address} resp=${resp}${metricsReadyField(values, node.monitoring.port)}\n`)
  await runUntilShutdownOrFailure(values.supervised, node)
}
