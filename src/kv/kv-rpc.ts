// The KV service's RPC (proto/kv.proto): one method, KV.Command, for every operation, served by the
// single-server KV (Lab 2) and by every replica of the Raft KV (Lab 4) alike.

import { RpcError } from '../rpc/errors.js'
import { protoCodec } from '../rpc/proto.js'
import { rpcMethod } from '../rpc/service.js'
import {
  type KvCommand,
  type KvResult,
  type WireCommand,
  type WireResult,
  commandFromWire,
  commandToWire,
  resultFromWire,
  resultToWire,
} from './kv.js'

export type KvError = 'OK' | 'ErrWrongLeader' | 'ErrTimeout' | 'ErrShutdown' | 'ErrWrongGroup' | 'ErrTooLarge'

export interface KvRequest {
  clientId: number
  sequence: number
  command: KvCommand
}

export interface KvReply {
  err: KvError
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

const KNOWN_ERRORS = new Set<string>(['OK', 'ErrWrongLeader', 'ErrTimeout', 'ErrShutdown', 'ErrWrongGroup', 'ErrTooLarge'])

export const EMPTY_RESULT: KvResult = Object.freeze({ value: '', found: false, length: 0 })

export const kvCommandMethod = rpcMethod(
  'KV',
  'Command',
  {
    typeName: 'lograft.kv.KvRequest',
    encode: (request: KvRequest) =>
      wireRequest.encode({ clientId: request.clientId, sequence: request.sequence, command: commandToWire(request.command) }),
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
        err: (KNOWN_ERRORS.has(wire.err) ? wire.err : 'ErrShutdown') as KvError,
        result: wire.result ? resultFromWire(wire.result) : EMPTY_RESULT,
        leaderHint: wire.leaderHint,
      }
    },
  },
)
