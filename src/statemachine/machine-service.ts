// Serving any StateMachine over RPC: `<machine name>.Execute` takes a command with the client's
// session; read-only commands are answered by a linearizable ReadIndex read, writes go through the
// log exactly once. A non-leader answers ErrWrongLeader with its guess of the leader. The KV, the
// shard controller and embedders' machines are all served this way; MachineClerk is the client.

import { NotLeaderError, RaftTimeoutError } from '../raft/errors.js'
import { protoCodec } from '../rpc/proto.js'
import { type RpcMethod, handler, rpcMethod } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import type { ReplicatedStateMachine } from './runtime.js'

export interface MachineRequest {
  clientId: number
  sequence: number
  /** The command, encoded with the machine's commandCodec. */
  command: Uint8Array
}

export interface MachineReply {
  /** "OK", "ErrWrongLeader", "ErrTimeout", or a refusal of the service's own (MachineServiceOptions.refuse). */
  err: string
  result: Uint8Array
  leaderHint: string
}

const requestCodec = protoCodec<MachineRequest>('kv.proto', 'lograft.kv.MachineRequest')
const replyCodec = protoCodec<MachineReply>('kv.proto', 'lograft.kv.MachineReply')

/** The Execute method of the machine called `machineName`. */
export function machineMethod(machineName: string): RpcMethod<MachineRequest, MachineReply> {
  return rpcMethod(machineName, 'Execute', requestCodec, replyCodec)
}

/** How {@link serveMachine} serves a machine. */
export interface MachineServiceOptions<Command> {
  /**
   * A command to refuse before it reaches the log, and the code to refuse it with (e.g. a value
   * larger than the service accepts: "ErrTooLarge"); null to accept it. The clerk throws
   * CommandRefusedError with the code, rather than retrying.
   */
  refuse?: (command: Command) => string | null
}

const NO_RESULT = new Uint8Array(0)

/** Registers `<machine name>.Execute` for `replica` on `transport`. */
export function serveMachine<State, Command, Result>(
  replica: ReplicatedStateMachine<State, Command, Result>,
  transport: Transport,
  options: MachineServiceOptions<Command> = {},
): void {
  const machine = replica.machine
  const method = machineMethod(machine.name)
  const refusal = (err: string): MachineReply => ({ err, result: NO_RESULT, leaderHint: replica.raft.status().leaderId ?? '' })
  transport.register(method.service, {
    [method.name]: handler(method, async (request): Promise<MachineReply> => {
      const command = machine.commandCodec.decode(request.command)
      const refused = options.refuse?.(command) ?? null
      if (refused !== null) return refusal(refused)
      try {
        const result = machine.isReadOnly(command)
          ? await replica.query((state, context) => machine.apply(state, command, context).result)
          : await replica.execute(command, { clientId: request.clientId, sequence: request.sequence }, request.command)
        if (result === undefined) return refusal('ErrWrongLeader')
        return { err: 'OK', result: machine.resultCodec.encode(result), leaderHint: '' }
      } catch (error) {
        if (error instanceof RaftTimeoutError) return refusal('ErrTimeout')
        if (error instanceof NotLeaderError) return { err: 'ErrWrongLeader', result: NO_RESULT, leaderHint: error.leaderId ?? '' }
        return refusal('ErrWrongLeader')
      }
    }),
  })
}
