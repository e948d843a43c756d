// `lograft node`: runs one KV replica until SIGINT/SIGTERM, or until it fails (a durable write
// failed, or it lost its state): then it exits non-zero with one line saying why, as etcd does,
// rather than live on answering as if nothing happened.

import { KvNode } from '../node/kv-node.js'
import { MachineNode } from '../node/machine-node.js'
import type { TlsConfig } from '../rpc/tls.js'
import type { Logger } from '../base/logger.js'
import { loadMachine } from '../statemachine/machine-loader.js'
import { DEFAULT_MAX_VALUE_BYTES } from '../node/raft-host.js'
import { parsePeers } from '../node/peers.js'
import { runUntilShutdownOrFailure } from './shutdown.js'
import { RESP_SECURITY_FLAG_OPTIONS, TLS_FLAG_OPTIONS, respSecurityFromFlags, tlsFromFlags } from './tls-flags.js'
import { MEMBERSHIP_FLAG_OPTIONS, type MembershipFlags, membershipFromFlags } from './membership-flags.js'
import { LOG_FLAG_OPTIONS, loggerFromFlags } from './log-flags.js'
import { METRICS_FLAG_OPTIONS, metricsFromFlags, metricsReadyField } from './metrics-flags.js'
import { UsageError, maxRaftStateFromFlags, parseFlags, requireInteger } from './usage.js'
import { NODE_USAGE } from './usage-text.js'

export async function nodeCommand(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      id: { type: 'string' },
      peers: { type: 'string' },
      ...MEMBERSHIP_FLAG_OPTIONS,
      data: { type: 'string' },
      resp: { type: 'string' },
      'cluster-id': { type: 'string' },
      'max-raft-state': { type: 'string' },
      'max-value-bytes': { type: 'string' },
      'lease-reads': { type: 'boolean', default: false },
      machine: { type: 'string' },
      ...TLS_FLAG_OPTIONS,
      ...RESP_SECURITY_FLAG_OPTIONS,
      ...METRICS_FLAG_OPTIONS,
      ...LOG_FLAG_OPTIONS,
      supervised: { type: 'boolean', default: false },
    },
  })
  if (!values.id || !values.data) throw new UsageError(`node needs --id and --data\n  ${NODE_USAGE}`)
  const logger = loggerFromFlags(values, { node: values.id })
  const membership = membershipFromFlags(values, parsePeers)
  const tls = await tlsFromFlags(values)
  if (values.machine !== undefined) return machineNodeCommand(values.machine, values, membership, tls, logger)
  const respSecurity = await respSecurityFromFlags(values)
  if (respSecurity.respTls && !tls) throw new UsageError("--resp-tls serves RESP with the node's certificate: give --tls-cert, --tls-key and --tls-ca too")
  const node = await KvNode.start({
    id: values.id,
    ...membership,
    dataDirectory: values.data,
    ...(values.resp ? { respAddress: values.resp } : {}),
    ...metricsFromFlags(values),
    logger,
    ...(values['cluster-id'] ? { clusterId: values['cluster-id'] } : {}),
    ...(tls ? { tls } : {}),
    ...respSecurity,
    ...maxRaftStateFromFlags(values),
    maxValueBytes: requireInteger('max-value-bytes', values['max-value-bytes'], DEFAULT_MAX_VALUE_BYTES, 1),
    leaseReads: values['lease-reads'],
  })
  process.stdout.write(
    `lograft node ${node.id} ready cluster=${node.clusterId} raft=${node.address} resp=${node.respPort === null ? '' : `${values.resp?.replace(/:\d+$/, '')}:${node.respPort}`}${metricsReadyField(values, node.monitoring.port)}\n`,
  )
  await runUntilShutdownOrFailure(values.supervised, node)
}

/** `lograft node --machine PATH`: a replica of the machine that module exports, served to MachineClerk clients. */
async function machineNodeCommand(
  path: string,
  values: {
    id?: string | undefined
    data?: string | undefined
    resp?: string | undefined
    'cluster-id'?: string | undefined
    'max-raft-state'?: string | undefined
    metrics?: string | undefined
    supervised: boolean
  },
  membership: MembershipFlags,
  tls: TlsConfig | undefined,
  logger: Logger,
): Promise<void> {
  if (values.resp !== undefined)
    throw new UsageError('--resp serves the KV over the Redis protocol; a node with --machine serves its machine to MachineClerk clients (lograft call)')
  const machine = await loadMachine(path)
  const node = await MachineNode.start({
    machine,
    id: values.id as string,
    ...membership,
    dataDirectory: values.data as string,
    ...metricsFromFlags(values),
    logger,
    ...(values['cluster-id'] ? { clusterId: values['cluster-id'] } : {}),
    ...(tls ? { tls } : {}),
    ...maxRaftStateFromFlags(values),
  })
  process.stdout.write(
    `lograft node ${node.id} ready cluster=${node.clusterId} raft=${node.address} machine=${machine.name}${metricsReadyField(values, node.monitoring.port)}\n`,
  )
  await runUntilShutdownOrFailure(values.supervised, node)
}
