// The RESP endpoint's backend on a lograft node: every command goes to the Raft KV through a clerk,
// exactly once. The clerk calls this node's own replica directly: reads are served here, leader or
// follower, and writes too when this node leads; other writes are forwarded to the leader. Clerks
// are pooled: each serves one request at a time, so concurrent connections use distinct sessions.

import { RespError, respErrorOf } from '../resp/errors.js'
import type { KvBackend, KvInfoSections } from '../resp/backend.js'
import type { Transport } from '../rpc/transport.js'
import { KvClerk, KvDeadlineError, KvValueTooLargeError } from '../kv/kv-clerk.js'
import type { KvCommand, KvResult } from '../kv/kv.js'
import type { LocalMachine } from '../statemachine/machine-service.js'

export interface ClerkPoolBackendOptions {
  transport: Transport
  /** The cluster's members now: commands follow the membership as it changes. */
  servers: () => readonly string[]
  /** A request that has not completed in this time fails with -TRYAGAIN (its outcome is unknown). */
  requestTimeoutMs: number
  rpcTimeoutMs: number
  info: () => KvInfoSections
  /** The node's own KV replica, which the clerks call directly (reads on any member, writes when it leads). */
  local: LocalMachine<KvCommand, KvResult>
}

export class ClerkPoolBackend implements KvBackend {
  private readonly idle: KvClerk[] = []

  constructor(private readonly options: ClerkPoolBackendOptions) {}

  async info(): Promise<KvInfoSections> {
    return this.options.info()
  }

  /** Pipelined commands as one transaction: one round of replication (or one read) for the lot. */
  async executeBatch(commands: KvCommand[]): Promise<KvResult[]> {
    const result = await this.execute({ op: 'multi', key: '', value: '', commands })
    if (result.error !== undefined) throw respErrorOf(result.error)
    if (result.results === undefined) throw new RespError('ERR', 'a batch of writes ran nothing')
    return result.results
  }

  async execute(command: KvCommand): Promise<KvResult> {
    const clerk =
      this.idle.pop() ??
      new KvClerk({
        transport: this.options.transport,
        servers: this.options.servers,
        rpcTimeoutMs: this.options.rpcTimeoutMs,
        deadlineMs: this.options.requestTimeoutMs,
        retryPauseMs: 50,
        local: this.options.local,
      })
    try {
      return await clerk.execute(command)
    } catch (error) {
      if (error instanceof KvDeadlineError) throw new RespError('TRYAGAIN', `no quorum reachable: ${error.message}`)
      if (error instanceof KvValueTooLargeError) throw new RespError('ERR', error.message)
      throw error
    } finally {
      this.idle.push(clerk)
    }
  }
}
