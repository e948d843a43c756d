// The KV clerk: the generic MachineClerk (leader-seeking, exactly once, retrying forever by default
// as the lab's clerk does, or until a deadline) with the KV's own calls and errors.

import type { Transport } from '../rpc/transport.js'
import type { Clock } from '../base/clock.js'
import { ClerkDeadlineError, CommandRefusedError, MachineClerk } from '../statemachine/machine-clerk.js'
import { type KvCommand, type KvResult, type KvState, kvMachine } from './kv.js'
import { TOO_LARGE } from './kv-service.js'

export interface KvClerkOptions {
  transport: Transport
  /** The replicas, by the peer names the transport knows. */
  /** The servers to try, or a function giving them now (a cluster whose members change). */
  servers: readonly string[] | (() => readonly string[])
  /** Defaults to a random 52-bit id from `random`. */
  clientId?: number
  random?: () => number
  clock?: Clock
  /** Per-attempt RPC timeout. Default: the transport's. */
  rpcTimeoutMs?: number
  /** Pause after every server has been tried without success. Default 100 ms. */
  retryPauseMs?: number
  /** Give up on a request after this long (its outcome is then unknown). Default: never. */
  deadlineMs?: number
}

/** The clerk gave up; the request may or may not have taken effect. */
export class KvDeadlineError extends Error {
  readonly code = 'ERR_KV_DEADLINE'
  constructor(command: KvCommand, deadlineMs: number) {
    super(`${command.op} of key ${JSON.stringify(command.key.slice(0, 64))} did not complete within ${deadlineMs}ms; its outcome is unknown`)
  }
}

/** The servers refuse the value as too large; retrying cannot help. */
export class KvValueTooLargeError extends Error {
  readonly code = 'ERR_KV_TOO_LARGE'
  constructor(bytes: number) {
    super(`a value of ${bytes} bytes is larger than the servers accept`)
  }
}

export class KvClerk {
  readonly clientId: number
  private readonly clerk: MachineClerk<KvState, KvCommand, KvResult>

  constructor(options: KvClerkOptions) {
    // The clerk needs the machine's codecs and its notion of a read, not its flavour of Append.
    this.clerk = new MachineClerk(kvMachine({ appendReturnsOldValue: false }), options)
    this.clientId = this.clerk.clientId
  }

  async get(key: string): Promise<string> {
    return (await this.execute({ op: 'get', key, value: '' })).value
  }

  async put(key: string, value: string): Promise<void> {
    await this.execute({ op: 'put', key, value })
  }

  /** Appends; the result carries the new length (and the old value, where the server returns it). */
  append(key: string, value: string): Promise<KvResult> {
    return this.execute({ op: 'append', key, value })
  }

  /** Deletes the key; resolves with whether it existed. */
  async delete(key: string): Promise<boolean> {
    return (await this.execute({ op: 'delete', key, value: '' })).found
  }

  /** Runs one command, after this clerk's earlier ones. */
  async execute(command: KvCommand): Promise<KvResult> {
    try {
      return await this.clerk.execute(command)
    } catch (error) {
      if (error instanceof ClerkDeadlineError) throw new KvDeadlineError(command, error.deadlineMs)
      if (error instanceof CommandRefusedError && error.refusal === TOO_LARGE) throw new KvValueTooLargeError(command.value.length)
      throw error
    }
  }
}
