// The Control service of a Raft node process (proto/raft-control.proto) as typed RPC methods,
// shared by the node program, the process tests and the benchmark.

import { protoCodec } from '../../src/rpc/proto.js'
import { rpcMethod } from '../../src/rpc/service.js'

export interface ProposeRequest {
  command: Uint8Array
  /** If above 0, wait up to this long for the node to apply the proposed index, and reply with what it applied there. */
  waitMs: number
}

export interface ProposeReply {
  /** -1 when the node is not leader. */
  index: number
  term: number
  isLeader: boolean
  /** With waitMs: the command applied at index, if it was within waitMs (empty otherwise). */
  applied: AppliedCommand[]
}

export type StatusRequest = Record<string, never>

export interface StatusReply {
  id: string
  term: number
  role: string
  /** Empty when the node knows no leader. */
  leaderId: string
  commitIndex: number
  appliedIndex: number
  lastIndex: number
  snapshotIndex: number
}

export interface AppliedRequest {
  fromIndex: number
  maxEntries: number
  /** If the node has not applied fromIndex yet, wait up to this long for it. */
  waitMs: number
}

export interface AppliedCommand {
  index: number
  term: number
  data: Uint8Array
}

export interface AppliedReply {
  /** Commands applied at fromIndex and after, in index order; no-ops are left out. */
  commands: AppliedCommand[]
  appliedIndex: number
}

/** Upper bounds the node enforces on one Applied call. */
export const MAX_APPLIED_ENTRIES_PER_CALL = 1000
export const MAX_APPLIED_WAIT_MS = 10_000

const FILE = 'raft-control.proto'
const SERVICE = 'Control'

function codec<T extends object>(name: string) {
  return protoCodec<T>(FILE, `lograft.control.${name}`)
}

export const proposeMethod = rpcMethod(SERVICE, 'Propose', codec<ProposeRequest>('ProposeRequest'), codec<ProposeReply>('ProposeReply'))
export const statusMethod = rpcMethod(SERVICE, 'Status', codec<StatusRequest>('StatusRequest'), codec<StatusReply>('StatusReply'))
export const appliedMethod = rpcMethod(SERVICE, 'Applied', codec<AppliedRequest>('AppliedRequest'), codec<AppliedReply>('AppliedReply'))
