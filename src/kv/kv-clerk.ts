import type { Transport } from '../rpc/transport.js'
import type { Clock } from '../base/clock.js'
import { ClerkDeadlineError, CommandRefusedError, MachineClerk } from '../statemachine/machine-clerk.js'
import type { LocalMachine } from '../statemachine/machine-service.js'
import { type KvCommand, type KvResult, type KvState, kvMachine } from './kv.js'
import { TOO_LARGE } from './kv-service.js'

/** How a {@link KvClerk} reaches the KV servers; times in ms. */
export interface KvClerkOptions {
  /** The transport to call the servers on; the clerk does not close it. */
  transport: Transport
  /**
   * The servers to try, by the names the transport calls them (peer ids or "host:port"), or a
   * function giving them now (a cluster whose members change).
   */
  servers: readonly string[] | (() => readonly string[])
  /** Defaults to a random 52-bit id from `random`. */
  clientId?: number
  /** Draws the random client id when none is given; default Math.random. */
  random?: () => number
  clock?: Clock
  /** Per-attempt RPC timeout. Default: the transport's. */
  rpcTimeoutMs?: number
  /** Pause after every server has been tried without success. Default 100 ms. */
  retryPauseMs?: number
  /** Give up on a request after this long (its outcome is then unknown). Default: never. */
  deadlineMs?: number
  /** The KV replica in this process (KvService.register's return), called without RPC; see MachineClerkOptions.local. */
  local?: LocalMachine<KvCommand, KvResult>
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

/**
 * The client of a KV cluster: the generic {@link MachineClerk} (leader-seeking, exactly once,
 * retrying forever by default, or until deadlineMs) with the KV's own calls and errors. A request
 * past the deadline throws KvDeadlineError; a value the servers refuse as too large,
 * KvValueTooLargeError.
 */
export class KvClerk {
  /** The session id this clerk's writes are deduplicated by. */
  readonly clientId: number
  private readonly clerk: MachineClerk<KvState, KvCommand, KvResult>

  constructor(options: KvClerkOptions) {
    // The clerk needs the machine's codecs and its notion of a read, not its flavour of Append.
    this.clerk = new MachineClerk(kvMachine({ appendReturnsOldValue: false }), options)
    this.clientId = this.clerk.clientId
  }

  /** The value of `key`, '' if it is missing: a linearizable read. */
  async get(key: string): Promise<string> {
    return (await this.execute({ op: 'get', key, value: '' })).value
  }

  /** Sets `key` to `value`, exactly once however often the request is retried. */
  async put(key: string, value: string): Promise<void> {
    await this.execute({ op: 'put', key, value })
  }

  /** Appends; the result carries the new length (and the old value, where the server returns it). */
  append(key: string, value: string): Promise<KvResult> {
    return this.execute({ op: 'append', key, value })
  }

  /**
   * Adds `delta` to the integer at `key` (missing counts as 0), exactly once however often the
   * request is retried; the result's value is the new integer, or its error says why nothing changed.
   */
  incr(key: string, delta: bigint): Promise<KvResult> {
    return this.execute({ op: 'incr', key, value: delta.toString() })
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
