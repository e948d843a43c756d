// The sharded KV's client RPC (the messages of proto/kv.proto): ShardKV.Command carries a KV command
// with the client's session to a replica group, which answers ErrWrongGroup for a key whose shard
// it does not serve (the clerk then asks the controller where it went).

import { RpcError } from '../rpc/errors.js'
import { protoCodec } from '../rpc/proto.js'
import { rpcMethod } from '../rpc/service.js'
import { type KvCommand, type KvResult, type WireCommand, type WireResult, commandFromWire, commandToWire, resultFromWire, resultToWire } from '../kv/kv.js'

export type ShardKvError = 'OK' | 'ErrWrongLeader' | 'ErrTimeout' | 'ErrShutdown' | 'ErrWrongGroup'

export interface KvRequest {
  clientId: number
  sequence: number
  command: KvCommand
}

export interface KvReply {
  err: ShardKvError
  result: KvResult
  leaderHint: string
}

interface WireRequest {
  clientId: number
  sequence: number
  command: WireCommand
}

interface WireReply {
  err: string
  result: WireResult | null
  leaderHint: string
}

const wireRequest = protoCodec<WireRequest>('kv.proto', 'lograft.kv.KvRequest')
const wireReply = protoCodec<WireReply>('kv.proto', 'lograft.kv.KvReply')

const KNOWN_ERRORS = new Set<string>(['OK', 'ErrWrongLeader', 'ErrTimeout', 'ErrShutdown', 'ErrWrongGroup'])

export const EMPTY_RESULT: KvResult = Object.freeze({ value: '', found: false, length: 0 })

export const shardKvCommandMethod = rpcMethod(
  'ShardKV',
  'Command',
  {
    typeName: 'lograft.kv.KvRequest',
    encode: (request: KvRequest) => wireRequest.encode({ clientId: request.clientId, sequence: request.sequence, command: commandToWire(request.command) }),
    decode: (bytes: Uint8Array): KvRequest => {
      const wire = wireRequest.decode(bytes)
      if (!wire.command) throw new RpcError('BAD_MESSAGE', 'KV request without a command')
      return { clientId: wire.clientId, sequence: wire.sequence, command: commandFromWire(wire.command) }
    },
  },
  {
    typeName: 'lograft.kv.KvReply',
    encode: (reply: KvReply) => wireReply.encode({ err: reply.err, result: resultToWire(reply.result), leaderHint: reply.leaderHint }),
    decode: (bytes: Uint8Array): KvReply => {
      const wire = wireReply.decode(bytes)
      return {
        err: (KNOWN_ERRORS.has(wire.err) ? wire.err : 'ErrShutdown') as ShardKvError,
        result: wire.result ? resultFromWire(wire.result) : EMPTY_RESULT,
        leaderHint: wire.leaderHint,
      }
    },
  },
)
