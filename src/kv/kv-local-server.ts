// The single-server KV (Lab 2): no replication, the same reducer and session table folded directly
// over the requests as they arrive. Exactly once over an unreliable network: a retried Put or
// Append gets its recorded result. Gets are never recorded, so reads cost no memory per client.

import { handler } from '../rpc/service.js'
import { type MachineReply, machineMethod } from '../statemachine/machine-service.js'
import type { Transport } from '../rpc/transport.js'
import type { Clock } from '../base/clock.js'
import { type Folded, applyCommand, initialFold } from '../statemachine/fold.js'
import { type KvCommand, type KvResult, type KvState, kvMachine } from './kv.js'
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

  /** Serves the KV machine's Execute method, as the replicated KV does, so the same clerk talks to both. */
  register(transport: Transport): void {
    const method = machineMethod(this.machine.name)
    transport.register(method.service, {
      [method.name]: handler(method, (request): MachineReply => {
        const result = this.handle(request.clientId, request.sequence, this.machine.commandCodec.decode(request.command))
        return { err: 'OK', result: this.machine.resultCodec.encode(result), leaderHint: '' }
      }),
    })
  }

  get state(): KvState {
    return this.folded.state
  }

  get sessionCount(): number {
    return this.folded.sessions.size
  }

  /** Applies one command with the client's session (a retry gets the recorded result). */
  handle(clientId: number, sequence: number, command: KvCommand): KvResult {
    // No log here: the position is the order requests arrive in.
    const context = { index: this.folded.index + 1, term: 0, timeMs: this.clock.now() }
    this.folded.index = context.index
    const { result } = applyCommand(this.machine, this.folded, clientId, sequence, context, command)
    return result ?? { value: '', found: false, length: 0 }
  }
}
