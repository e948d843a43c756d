// Serving any StateMachine over RPC: `<machine name>.Execute` takes a command with the client's
// session; read-only commands are answered by a linearizable ReadIndex read on any member, writes go
// through the log exactly once on the leader; a follower answers a write ErrWrongLeader with its
// guess of the leader. The KV, the shard controller and embedders' machines are all served this
// way; MachineClerk is the client, over the RPC or, in the same process, directly.

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

/** A machine's answer to one command before it is encoded: what the RPC carries, or what a clerk in the same process takes. */
export interface MachineAnswer<Result> {
  /** As in MachineReply. */
  err: string
  /** The command's result when err is "OK". */
  result?: Result
  leaderHint: string
}

/** A command with the client's session, decoded. */
export interface MachineCall<Command> {
  clientId: number
  sequence: number
  command: Command
}

/**
 * A replica served in this process. A clerk on the same node calls it for the server it runs as,
 * instead of the RPC, so a command skips encoding the request and the reply and decoding them.
 */
export interface LocalMachine<Command, Result> {
  /** The id of the server the replica runs as (the name its transport is called by). */
  readonly serverId: string
  /** Runs `call` as the RPC would; `encodedCommand` saves encoding the command again for the log. */
  answer(call: MachineCall<Command>, encodedCommand?: Uint8Array): Promise<MachineAnswer<Result>>
}

/**
 * Registers `<machine name>.Execute` for `replica` on `transport`, and returns the same service
 * for clerks in this process.
 */
export function serveMachine<State, Command, Result>(
  replica: ReplicatedStateMachine<State, Command, Result>,
  transport: Transport,
  options: MachineServiceOptions<Command> = {},
): LocalMachine<Command, Result> {
  const machine = replica.machine
  const method = machineMethod(machine.name)
  const local = localMachine(replica, options)
  transport.register(method.service, {
    [method.name]: handler(method, async (request): Promise<MachineReply> => {
      const command = machine.commandCodec.decode(request.command)
      const answer = await local.answer({ clientId: request.clientId, sequence: request.sequence, command }, request.command)
      return { err: answer.err, result: answer.result === undefined ? NO_RESULT : machine.resultCodec.encode(answer.result), leaderHint: answer.leaderHint }
    }),
  })
  return local
}

const NO_RESULT = new Uint8Array(0)

/** How `replica` answers a command, whether it came by RPC or from a clerk in this process. */
function localMachine<State, Command, Result>(
  replica: ReplicatedStateMachine<State, Command, Result>,
  options: MachineServiceOptions<Command>,
): LocalMachine<Command, Result> {
  const machine = replica.machine
  const refusal = (err: string): MachineAnswer<Result> => ({ err, leaderHint: replica.raft.status().leaderId ?? '' })
  return {
    serverId: replica.raft.id,
    async answer(call, encodedCommand) {
      const refused = options.refuse?.(call.command) ?? null
      if (refused !== null) return refusal(refused)
      try {
        // A read is linearizable on any member: a follower asks the leader for the read point.
        const result = machine.isReadOnly(call.command)
          ? await replica.query((state, context) => machine.apply(state, call.command, context).result)
          : await replica.execute(call.command, { clientId: call.clientId, sequence: call.sequence }, encodedCommand)
        if (result === undefined) return refusal('ErrWrongLeader')
        return { err: 'OK', result, leaderHint: '' }
      } catch (error) {
        if (error instanceof RaftTimeoutError) return refusal('ErrTimeout')
        if (error instanceof NotLeaderError) return { err: 'ErrWrongLeader', leaderHint: error.leaderId ?? '' }
        return refusal('ErrWrongLeader')
      }
    },
  }
}
