// Raft's RPC methods on the Transport, with their protobuf codecs (proto/raft.proto).

import { protoCodec } from '../rpc/proto.js'
import { rpcMethod } from '../rpc/service.js'
import type {
  AppendEntriesReply,
  AppendEntriesRequest,
  InstallSnapshotReply,
  InstallSnapshotRequest,
  ReadIndexReply,
  ReadIndexRequest,
  RequestVoteReply,
  RequestVoteRequest,
  TimeoutNowReply,
  TimeoutNowRequest,
} from './types.js'

const FILE = 'raft.proto'
const SERVICE = 'Raft'

function codec<T extends object>(name: string) {
  return protoCodec<T>(FILE, `lograft.raft.${name}`)
}

export const requestVote = rpcMethod(SERVICE, 'RequestVote', codec<RequestVoteRequest>('RequestVoteRequest'), codec<RequestVoteReply>('RequestVoteReply'))
export const appendEntries = rpcMethod(
  SERVICE,
  'AppendEntries',
  codec<AppendEntriesRequest>('AppendEntriesRequest'),
  codec<AppendEntriesReply>('AppendEntriesReply'),
)
export const installSnapshot = rpcMethod(
  SERVICE,
  'InstallSnapshot',
  codec<InstallSnapshotRequest>('InstallSnapshotRequest'),
  codec<InstallSnapshotReply>('InstallSnapshotReply'),
)
export const timeoutNow = rpcMethod(SERVICE, 'TimeoutNow', codec<TimeoutNowRequest>('TimeoutNowRequest'), codec<TimeoutNowReply>('TimeoutNowReply'))
export const askReadIndex = rpcMethod(SERVICE, 'ReadIndex', codec<ReadIndexRequest>('ReadIndexRequest'), codec<ReadIndexReply>('ReadIndexReply'))
