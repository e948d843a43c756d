// The Membership service (proto/membership.proto) on a node's transport: `list` and the single-
// server changes for operators' tools, and `join` for a new server asking to be added. Any member
// answers; one that does not lead passes the request on to its leader once.

import { protoCodec } from '../rpc/proto.js'
import { handler, invoke, rpcMethod } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import type { Logger } from '../base/logger.js'
import { configurationCodec } from './configuration-codec.js'
import { MembershipChangeError, NotLeaderError, RaftTimeoutError } from './errors.js'
import { type MembershipChange, changeInEffect } from './membership.js'
import type { RaftNode } from './node.js'

export interface MembershipRequest {
  action: string
  id: string
  address: string
  promoteWhenCaughtUp: boolean
  forwarded: boolean
}

export interface MembershipReply {
  error: string
  errorCode: string
  clusterId: string
  configuration: Uint8Array
  configurationIndex: number
  committed: boolean
  leaderId: string
  lastIndex: number
  progress: Array<{ id: string; matchIndex: number }>
}

export const membershipMethod = rpcMethod(
  'Membership',
  'Change',
  protoCodec<MembershipRequest>('membership.proto', 'lograft.membership.MembershipRequest'),
  protoCodec<MembershipReply>('membership.proto', 'lograft.membership.MembershipReply'),
)

export function membershipRequest(fields: Partial<MembershipRequest> & { action: string }): MembershipRequest {
  return { id: '', address: '', promoteWhenCaughtUp: false, forwarded: false, ...fields }
}

export interface MembershipServiceOptions {
  raft: RaftNode
  transport: Transport
  clusterId: string
  logger: Logger
}

/** Registers Membership.Change on `transport` for `raft`. */
export function serveMembership(options: MembershipServiceOptions): void {
  options.transport.register('Membership', { Change: handler(membershipMethod, (request) => answer(options, request)) })
}

async function answer(options: MembershipServiceOptions, request: MembershipRequest): Promise<MembershipReply> {
  const { raft } = options
  const status = raft.status()
  if (status.role !== 'leader') {
    if (status.leaderId === null || request.forwarded) {
      if (request.action === 'list') return reply(options)
      return failure(options, 'no-leader', `no leader is known to ${raft.id}; retry shortly`)
    }
    return invoke(options.transport, status.leaderId, membershipMethod, { ...request, forwarded: true })
  }
  const change = changeFor(request)
  if (change === null) return request.action === 'list' ? reply(options) : failure(options, 'unknown-action', `unknown membership action "${request.action}"`)
  if (request.action === 'join' && changeInEffect(raft.members().configuration, change)) return reply(options) // A retried join: already done.
  try {
    await raft.changeMembership(change)
    options.logger.info('membership changed', { node: raft.id, action: request.action, member: request.id, address: request.address || undefined })
    return reply(options)
  } catch (error) {
    if (error instanceof NotLeaderError) return failure(options, 'not-leader', error.message)
    if (error instanceof RaftTimeoutError) return failure(options, 'timeout', error.message)
    if (error instanceof MembershipChangeError) return failure(options, /not committed yet/.test(error.message) ? 'in-flight' : 'invalid', error.message)
    throw error
  }
}

function changeFor(request: MembershipRequest): MembershipChange | null {
  switch (request.action) {
    case 'join':
      return { kind: 'addLearner', id: request.id, address: request.address, promoteWhenCaughtUp: true }
    case 'add':
      return { kind: 'addLearner', id: request.id, address: request.address, promoteWhenCaughtUp: request.promoteWhenCaughtUp }
    case 'promote':
      return { kind: 'promote', id: request.id }
    case 'remove':
      return { kind: 'remove', id: request.id }
    case 'address':
      return { kind: 'changeAddress', id: request.id, address: request.address }
    default:
      return null
  }
}

function reply(options: MembershipServiceOptions, error = '', errorCode = ''): MembershipReply {
  const { raft } = options
  const state = raft.members()
  const status = raft.status()
  return {
    error,
    errorCode,
    clusterId: options.clusterId,
    configuration: configurationCodec.encode(state.configuration),
    configurationIndex: state.index,
    committed: state.committed,
    leaderId: status.leaderId ?? '',
    lastIndex: status.lastIndex,
    progress: raft.replicationProgress().map(({ id, matchIndex }) => ({ id, matchIndex })),
  }
}

function failure(options: MembershipServiceOptions, code: string, message: string): MembershipReply {
  return reply(options, message, code)
}
