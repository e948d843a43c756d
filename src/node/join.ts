// A new server asking an existing cluster to add it: through any member's address it sends a
// `join` (Membership.Change), which the leader turns into "add learner, promote once caught up",
// and learns the cluster's id and configuration, before it opens a data directory of its own.

import { configurationCodec } from '../raft/configuration-codec.js'
import type { Configuration } from '../raft/membership.js'
import { membershipMethod, membershipRequest } from '../raft/membership-service.js'
import { isRpcError } from '../rpc/errors.js'
import { invoke } from '../rpc/service.js'
import { TcpTransport } from '../rpc/tcp-transport.js'
import type { TlsConfig } from '../rpc/tls.js'
import { type Clock, sleep, systemClock } from '../base/clock.js'
import type { Logger } from '../base/logger.js'

export class JoinError extends Error {
  readonly code = 'ERR_JOIN'
}

export interface JoinOptions {
  id: string
  /** Where this server will listen: how the cluster will reach it. */
  address: string
  /** Any member's address. */
  via: string
  /** Refuse a cluster with another id (when the operator names the one they mean). */
  expectedClusterId?: string
  tls?: TlsConfig
  logger: Logger
  clock?: Clock
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number
}

export interface Joined {
  readonly clusterId: string
  readonly configuration: Configuration
}

const RETRY_MS = 250
/** Answers worth waiting out: the cluster is electing, or busy with another change. */
const TRANSIENT = new Set(['no-leader', 'not-leader', 'in-flight', 'timeout'])

export async function joinCluster(options: JoinOptions): Promise<Joined> {
  const clock = options.clock ?? systemClock
  const transport = await TcpTransport.start({ self: options.id, logger: options.logger, ...(options.tls ? { tls: options.tls } : {}) })
  const deadline = clock.now() + (options.timeoutMs ?? 30_000)
  let last = ''
  try {
    while (clock.now() < deadline) {
      try {
        const reply = await invoke(transport, options.via, membershipMethod, membershipRequest({ action: 'join', id: options.id, address: options.address }))
        if (options.expectedClusterId !== undefined && reply.clusterId !== options.expectedClusterId) {
          throw new JoinError(`${options.via} is a node of cluster ${reply.clusterId}, not ${options.expectedClusterId}`)
        }
        if (reply.error === '') return { clusterId: reply.clusterId, configuration: configurationCodec.decode(reply.configuration) }
        if (!TRANSIENT.has(reply.errorCode)) throw new JoinError(`${options.via} refused to add ${options.id}: ${reply.error}`)
        last = reply.error
      } catch (error) {
        if (!isRpcError(error)) throw error
        last = error.message
      }
      await sleep(clock, RETRY_MS)
    }
    throw new JoinError(`could not join through ${options.via}: ${last}`)
  } finally {
    await transport.close()
  }
}
