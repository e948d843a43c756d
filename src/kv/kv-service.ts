// The Raft-replicated KV server (Lab 4): serves KV.Command on a Transport. Writes go through the
// log with the client's session (exactly once); reads are linearizable ReadIndex reads, so a Get
// never returns stale data from a minority. A non-leader answers ErrWrongLeader with its guess.

import { NotLeaderError, RaftTimeoutError } from '../raft/errors.js'
import { handler } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import type { KvCommand, KvResult, KvState } from './kv.js'
import { EMPTY_RESULT, type KvReply, type KvRequest, kvCommandMethod } from './kv-rpc.js'
import { type ReplicatedStateMachine } from '../statemachine/runtime.js'

export type KvReplica = ReplicatedStateMachine<KvState, KvCommand, KvResult>

export interface KvServiceOptions {
  /** Largest value accepted in a Put or Append; larger ones get ErrTooLarge. Default 64 MiB. */
  maxValueBytes?: number
}

export class KvService {
  private readonly maxValueBytes: number

  constructor(
    private readonly replica: KvReplica,
    options: KvServiceOptions = {},
  ) {
    this.maxValueBytes = options.maxValueBytes ?? 64 * 1024 * 1024
  }

  register(transport: Transport): void {
    transport.register('KV', { Command: handler(kvCommandMethod, (request) => this.handle(request)) })
  }

  async handle(request: KvRequest): Promise<KvReply> {
    const { command } = request
    if (command.value.length > this.maxValueBytes) return this.reply('ErrTooLarge')
    try {
      if (command.op === 'get') {
        const result = await this.replica.query((state) => {
          const value = state.get(command.key)
          return value === undefined ? EMPTY_RESULT : { value, found: true, length: value.length }
        })
        return { err: 'OK', result, leaderHint: '' }
      }
      const result = await this.replica.execute(command, { clientId: request.clientId, sequence: request.sequence })
      return { err: 'OK', result: result ?? EMPTY_RESULT, leaderHint: '' }
    } catch (error) {
      if (error instanceof RaftTimeoutError) return this.reply('ErrTimeout')
      if (error instanceof NotLeaderError) return { err: 'ErrWrongLeader', result: EMPTY_RESULT, leaderHint: error.leaderId ?? '' }
      return this.reply('ErrWrongLeader')
    }
  }

  private reply(err: KvReply['err']): KvReply {
    return { err, result: EMPTY_RESULT, leaderHint: this.replica.raft.status().leaderId ?? '' }
  }
}
