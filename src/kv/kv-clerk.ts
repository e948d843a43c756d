// The KV clerk: finds and remembers the leader, numbers its requests for exactly-once execution,
// and retries across leader changes and lost replies — forever by default, as the lab's clerk
// does, or until a deadline. One request at a time per clerk (its session allows one outstanding).

import { invoke } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import { type Clock, sleep, systemClock } from '../base/clock.js'
import type { KvCommand, KvResult } from './kv.js'
import { kvCommandMethod } from './kv-rpc.js'
import { SerialQueue } from '../base/serial-queue.js'

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
  private readonly options: KvClerkOptions
  private readonly clock: Clock
  private sequence = 0
  private leader = 0
  private readonly queue = new SerialQueue()

  constructor(options: KvClerkOptions) {
    this.options = options
    this.clock = options.clock ?? systemClock
    this.clientId = options.clientId ?? 1 + Math.floor((options.random ?? Math.random)() * 2 ** 52)
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
  execute(command: KvCommand): Promise<KvResult> {
    return this.queue.run(() => this.attempt(command))
  }

  private async attempt(command: KvCommand): Promise<KvResult> {
    const sequence = command.op === 'get' ? 0 : ++this.sequence
    const started = this.clock.now()
    const callOptions = this.options.rpcTimeoutMs === undefined ? undefined : { timeoutMs: this.options.rpcTimeoutMs }
    for (;;) {
      const servers = typeof this.options.servers === 'function' ? this.options.servers() : this.options.servers
      if (this.leader >= servers.length) this.leader = 0
      for (let tried = 0; tried < servers.length; tried++) {
        if (this.options.deadlineMs !== undefined && this.clock.now() - started >= this.options.deadlineMs) {
          throw new KvDeadlineError(command, this.options.deadlineMs)
        }
        const server = servers[this.leader] as string
        try {
          const reply = await invoke(this.options.transport, server, kvCommandMethod, { clientId: this.clientId, sequence, command }, callOptions)
          if (reply.err === 'OK') return reply.result
          if (reply.err === 'ErrTooLarge') throw new KvValueTooLargeError(command.value.length)
          const hinted = servers.indexOf(reply.leaderHint)
          if (reply.err === 'ErrWrongLeader' && hinted >= 0 && hinted !== this.leader) {
            this.leader = hinted
            continue
          }
        } catch (error) {
          if (error instanceof KvValueTooLargeError) throw error
          // Lost, unreachable or timed out: the next server may be the leader.
        }
        this.leader = (this.leader + 1) % servers.length
      }
      await sleep(this.clock, this.options.retryPauseMs ?? 100)
    }
  }
}
