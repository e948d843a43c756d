// The single-server KV (Lab 2): no replication, the same reducer and session table folded directly
// over the requests as they arrive. Exactly once over an unreliable network: a retried Put or
// Append gets its recorded result. Gets are never recorded, so reads cost no memory per client.

import { handler } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import type { Clock } from '../base/clock.js'
import { type Folded, applyCommand, initialFold } from '../statemachine/fold.js'
import { type KvCommand, type KvResult, type KvState, kvMachine } from './kv.js'
import { EMPTY_RESULT, type KvReply, type KvRequest, kvCommandMethod } from './kv-rpc.js'
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from '../statemachine/sessions.js'

export class KvLocalServer {
  private readonly machine = kvMachine({ appendReturnsOldValue: true })
  private readonly folded: Folded<KvState, KvResult>

  constructor(
    private readonly clock: Clock,
    limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {
    this.folded = initialFold(this.machine, limits)
  }

  register(transport: Transport): void {
    transport.register('KV', { Command: handler(kvCommandMethod, (request) => this.handle(request)) })
  }

  get state(): KvState {
    return this.folded.state
  }

  get sessionCount(): number {
    return this.folded.sessions.size
  }

  handle(request: KvRequest): KvReply {
    const command: KvCommand = request.command
    const { result } = applyCommand(this.machine, this.folded, request.clientId, request.sequence, this.clock.now(), command)
    return { err: 'OK', result: result ?? EMPTY_RESULT, leaderHint: '' }
  }
}
