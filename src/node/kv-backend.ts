// The RESP endpoint's backend on a lograft node: every command goes to the Raft KV through a clerk
// (forwarded to the leader, exactly once). Clerks are pooled: each serves one request at a time,
// so concurrent connections use distinct sessions.

import { RespError } from '../resp/errors.js'
import type { KvBackend, KvInfoSections } from '../resp/backend.js'
import type { Transport } from '../rpc/transport.js'
import { KvClerk, KvDeadlineError, KvValueTooLargeError } from '../statemachine/kv-clerk.js'
import type { KvCommand, KvResult } from '../statemachine/kv.js'

export interface ClerkPoolBackendOptions {
  transport: Transport
  servers: readonly string[]
  /** A request that has not completed in this time fails with -TRYAGAIN (its outcome is unknown). */
  requestTimeoutMs: number
  rpcTimeoutMs: number
  info: () => KvInfoSections
}

export class ClerkPoolBackend implements KvBackend {
  private readonly idle: KvClerk[] = []

  constructor(private readonly options: ClerkPoolBackendOptions) {}

  async get(key: Buffer): Promise<Buffer | null> {
    const result = await this.run({ op: 'get', key: key.toString('latin1'), value: '' })
    return result.found ? Buffer.from(result.value, 'latin1') : null
  }

  async set(key: Buffer, value: Buffer): Promise<void> {
    await this.run({ op: 'put', key: key.toString('latin1'), value: value.toString('latin1') })
  }

  async append(key: Buffer, suffix: Buffer): Promise<number> {
    return (await this.run({ op: 'append', key: key.toString('latin1'), value: suffix.toString('latin1') })).length
  }

  async del(keys: Buffer[]): Promise<number> {
    let deleted = 0
    for (const key of new Set(keys.map((k) => k.toString('latin1')))) {
      if ((await this.run({ op: 'delete', key, value: '' })).found) deleted++
    }
    return deleted
  }

  async exists(keys: Buffer[]): Promise<number> {
    let found = 0
    for (const key of keys) if ((await this.run({ op: 'get', key: key.toString('latin1'), value: '' })).found) found++
    return found
  }

  async info(): Promise<KvInfoSections> {
    return this.options.info()
  }

  private async run(command: KvCommand): Promise<KvResult> {
    const clerk =
      this.idle.pop() ??
      new KvClerk({
        transport: this.options.transport,
        servers: this.options.servers,
        rpcTimeoutMs: this.options.rpcTimeoutMs,
        deadlineMs: this.options.requestTimeoutMs,
        retryPauseMs: 50,
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
