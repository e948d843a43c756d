// The client of any served StateMachine: finds the leader (LeaderSeeker), retries across failures,
// and sends each write once per (client id, sequence), so a retry after a lost reply gets the
// recorded result instead of running again. One command at a time per clerk.

import { type Clock, sleep, systemClock } from '../base/clock.js'
import { SerialQueue } from '../base/serial-queue.js'
import { invoke } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import { type Answer, LeaderSeeker } from './leader-seeker.js'
import { type LocalMachine, type MachineAnswer, type MachineReply, machineMethod } from './machine-service.js'
import type { StateMachine } from './types.js'

/** How a {@link MachineClerk} reaches its machine's servers; times in ms. */
export interface MachineClerkOptions<Command = unknown, Result = unknown> {
  /** The transport to call the servers on; the clerk does not close it. */
  transport: Transport
  /** The group's servers, or a function giving them now (a cluster whose members change). */
  servers: readonly string[] | (() => readonly string[])
  /** Fixed for the clerk's life; default random. */
  clientId?: number
  /** Draws the random client id when none is given; default Math.random. */
  random?: () => number
  clock?: Clock
  /** Pause after every server was tried without an answer. Default 100 ms. */
  retryPauseMs?: number
  /** Per-RPC timeout; default the transport's. */
  rpcTimeoutMs?: number
  /** Give up (ClerkDeadlineError) after this long; default never. The command's outcome is then unknown. */
  deadlineMs?: number
  /**
   * The replica in this process (serveMachine's return), if any: called directly for its server
   * instead of by RPC, and asked every read first, since any member serves a linearizable read.
   */
  local?: LocalMachine<Command, Result>
}

/** No answer within the clerk's deadline: the command may or may not have taken effect. */
export class ClerkDeadlineError extends Error {
  readonly code = 'ERR_CLERK_DEADLINE'
  constructor(
    readonly machine: string,
    readonly deadlineMs: number,
  ) {
    super(`no ${machine} server answered within ${deadlineMs} ms; the command's outcome is unknown`)
  }
}

/** The service refused the command (see MachineServiceOptions.refuse); retrying cannot help. */
export class CommandRefusedError extends Error {
  readonly code = 'ERR_COMMAND_REFUSED'
  constructor(readonly refusal: string) {
    super(`the command was refused: ${refusal}`)
  }
}

/** The replies a clerk tries another server after; anything else but OK is the service refusing. */
const RETRY_REPLIES = new Set(['ErrWrongLeader', 'ErrTimeout'])

/**
 * The client of a machine served with {@link serveMachine}: finds the leader, retries across
 * failures and leader changes, and sends each write once per (clientId, sequence), so a retry after
 * a lost reply gets the recorded result instead of running again. One command at a time per clerk;
 * use several clerks for concurrency.
 */
export class MachineClerk<State, Command, Result> {
  /** The session id this clerk's writes are deduplicated by. */
  readonly clientId: number
  private sequence = 0
  private readonly seeker = new LeaderSeeker()
  private readonly queue = new SerialQueue()
  private readonly clock: Clock
  private readonly method: ReturnType<typeof machineMethod>

  constructor(
    private readonly machine: StateMachine<State, Command, Result>,
    private readonly options: MachineClerkOptions<Command, Result>,
  ) {
    this.clock = options.clock ?? systemClock
    this.clientId = options.clientId ?? 1 + Math.floor((options.random ?? Math.random)() * 2 ** 52)
    this.method = machineMethod(machine.name)
  }

  /** Runs one command, after this clerk's earlier ones, and resolves with its result. */
  execute(command: Command): Promise<Result> {
    return this.queue.run(() => this.attempt(command))
  }

  private async attempt(command: Command): Promise<Result> {
    const readOnly = this.machine.isReadOnly(command)
    const call = { clientId: this.clientId, sequence: readOnly ? 0 : ++this.sequence, command }
    const { local } = this.options
    // Encoded only for the first server called by RPC: the local replica takes the command as it is.
    let request: { clientId: number; sequence: number; command: Uint8Array } | null = null
    const callOptions = this.options.rpcTimeoutMs === undefined ? undefined : { timeoutMs: this.options.rpcTimeoutMs }
    const { deadlineMs } = this.options
    const started = this.clock.now()
    const checkDeadline = (): void => {
      if (deadlineMs !== undefined && this.clock.now() - started >= deadlineMs) throw new ClerkDeadlineError(this.machine.name, deadlineMs)
    }
    const judge = (answer: MachineAnswer<Result>): Answer<Result> => {
      if (answer.err === 'OK') return { kind: 'done', value: answer.result as Result }
      if (!RETRY_REPLIES.has(answer.err)) throw new CommandRefusedError(answer.err)
      return { kind: 'retry', hint: answer.leaderHint }
    }
    const ask = async (server: string): Promise<Answer<Result>> => {
      checkDeadline()
      if (local?.serverId === server) return judge(await local.answer(call))
      request ??= { clientId: call.clientId, sequence: call.sequence, command: this.machine.commandCodec.encode(command) }
      let reply: MachineReply
      try {
        reply = await invoke(this.options.transport, server, this.method, request, callOptions)
      } catch {
        return { kind: 'retry' } // Lost, unreachable or timed out: the next server may lead.
      }
      if (reply.err !== 'OK') return judge({ err: reply.err, leaderHint: reply.leaderHint })
      return judge({ err: 'OK', result: this.machine.resultCodec.decode(reply.result), leaderHint: '' })
    }
    if (local && readOnly) {
      // Any member serves a linearizable read: this process's replica first, whoever leads.
      const answer = await ask(local.serverId)
      if (answer.kind === 'done') return answer.value
    }
    for (;;) {
      checkDeadline()
      const servers = typeof this.options.servers === 'function' ? this.options.servers() : this.options.servers
      const round = await this.seeker.round(servers, ask)
      if (round.kind === 'done') return round.value
      await sleep(this.clock, this.options.retryPauseMs ?? 100)
    }
  }
}
