// The RPCs between replica groups (proto/shard.proto).

import { protoCodec } from '../rpc/proto.js'
import { rpcMethod } from '../rpc/service.js'

export type ShardRpcError = 'OK' | 'ErrWrongLeader' | 'ErrNotReady' | 'ErrStale'

export interface FetchRequest {
  configNum: number
  shard: number
  transferId: string
  index: number
}

export interface FetchReply {
  err: ShardRpcError
  transferId: string
  chunkCount: number
  payload: Uint8Array
}

export interface DeleteRequest {
  configNum: number
  shard: number
}

export interface DeleteReply {
  err: ShardRpcError
}

export const fetchShardMethod = rpcMethod(
  'Shard',
  'Fetch',
  protoCodec<FetchRequest>('shard.proto', 'lograft.shard.FetchRequest'),
  protoCodec<FetchReply>('shard.proto', 'lograft.shard.FetchReply'),
)

export const deleteShardMethod = rpcMethod(
  'Shard',
  'Delete',
  protoCodec<DeleteRequest>('shard.proto', 'lograft.shard.DeleteRequest'),
  protoCodec<DeleteReply>('shard.proto', 'lograft.shard.DeleteReply'),
)
