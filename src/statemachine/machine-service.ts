// Serving any StateMachine over RPC, and its clerk: `<machine name>.Execute` takes a command with
// the client's session; read-only commands are answered by a linearizable ReadIndex read, writes go
// through the log exactly once. The shard controller uses this; the KV has its own, richer service.

import { NotLeaderError, RaftTimeoutError } from '../raft/errors.js'
import { protoCodec } from '../rpc/proto.js'
import { handler, invoke, rpcMethod } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import { type Clock, sleep, systemClock } from '../base/clock.js'
import type { ReplicatedStateMachine } from './runtime.js'
import type { StateMachine } from './types.js'
import { SerialQueue } from '../base/serial-queue.js'

interface MachineRequest {
  clientId: number
  sequence: number
  command: Uint8Array
}

interface MachineReply {
  err: 'OK' | 'ErrWrongLeader' | 'ErrTimeout'
  result: Uint8Array
  leaderHint: string
}

const requestCodec = protoCodec<MachineRequest>('kv.proto', 'lograft.kv.MachineRequest')
const replyCodec = protoCodec<MachineReply>('kv.proto', 'lograft.kv.MachineReply')

function executeMethod(machineName: string) {
  return rpcMethod(machineName, 'Execute', requestCodec, replyCodec)
}

export function serveMachine<State, Command, Result>(
  replica: ReplicatedStateMachine<State, Command, Result>,
  transport: Transport,
): void {
  const machine = replica.machine
  const method = executeMethod(machine.name)
  transport.register(method.service, {
    [method.name]: handler(method, async (request): Promise<MachineReply> => {
      const command = machine.commandCodec.decode(request.command)
      try {
        const result = machine.isReadOnly(command)
          ? await replica.query((state) => machine.apply(state, command).result)
          : await replica.execute(command, { clientId: request.clientId, sequence: request.sequence })
        if (result === undefined) return { err: 'ErrWrongLeader', result: new Uint8Array(0), leaderHint: '' }
        return { err: 'OK', result: machine.resultCodec.encode(result), leaderHint: '' }
      } catch (error) {
        if (error instanceof RaftTimeoutError) return { err: 'ErrTimeout', result: new Uint8Array(0), leaderHint: '' }
        const leaderHint = error instanceof NotLeaderError ? (error.leaderId ?? '') : ''
        return { err: 'ErrWrongLeader', result: new Uint8Array(0), leaderHint }
      }
    }),
  })
}

export interface MachineClerkOptions {
  transport: Transport
  servers: readonly string[]
  clientId?: number
  random?: () => number
  clock?: Clock
  retryPauseMs?: number
  rpcTimeoutMs?: number
}

/** Finds the leader and retries forever, one command at a time, with an exactly-once session. */
export class MachineClerk<State, Command, Result> {
  readonly clientId: number
  private sequence = 0
  private leader = 0
  private readonly queue = new SerialQueue()
  private readonly clock: Clock
  private readonly method: ReturnType<typeof executeMethod>

  constructor(
    private readonly machine: StateMachine<State, Command, Result>,
    private readonly options: MachineClerkOptions,
  ) {
    this.clock = options.clock ?? systemClock
    this.clientId = options.clientId ?? 1 + Math.floor((options.random ?? Math.random)() * 2 ** 52)
    this.method = executeMethod(machine.name)
  }

  execute(command: Command): Promise<Result> {
    return this.queue.run(() => this.attempt(command))
  }

  private async attempt(command: Command): Promise<Result> {
    const sequence = this.machine.isReadOnly(command) ? 0 : ++this.sequence
    const request = { clientId: this.clientId, sequence, command: this.machine.commandCodec.encode(command) }
    const servers = this.options.servers
    const callOptions = this.options.rpcTimeoutMs === undefined ? undefined : { timeoutMs: this.options.rpcTimeoutMs }
    for (;;) {
      for (let tried = 0; tried < servers.length; tried++) {
        try {
          const reply = await invoke(this.options.transport, servers[this.leader] as string, this.method, request, callOptions)
          if (reply.err === 'OK') return this.machine.resultCodec.decode(reply.result)
          const hinted = servers.indexOf(reply.leaderHint)
          if (hinted >= 0 && hinted !== this.leader) {
            this.leader = hinted
            continue
          }
        } catch {
          // Lost, unreachable or timed out: try the next server.
        }
        this.leader = (this.leader + 1) % servers.length
      }
      await sleep(this.clock, this.options.retryPauseMs ?? 100)
    }
  }
}
