// A KvBackend for the RESP endpoint that turns each Redis command into KV commands and hands them to
// `run`: the Raft KV's clerk pool and the sharded KV's forwarding pool differ only in how they run
// one command.

import type { KvBackend, KvInfoSections, SetOptions } from '../resp/backend.js'
import { type KvCommand, type KvResult, putAllowed } from '../kv/kv.js'
import { RespError } from '../resp/errors.js'

export abstract class CommandBackend implements KvBackend {
  /** Runs one command exactly once, or throws a RespError saying why it could not. */
  protected abstract run(command: KvCommand): Promise<KvResult>

  constructor(private readonly infoSections: () => KvInfoSections) {}

  async info(): Promise<KvInfoSections> {
    return this.infoSections()
  }

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

  async setWith(key: Buffer, value: Buffer, options: SetOptions): Promise<{ written: boolean; old: Buffer | null }> {
    const command: KvCommand = { op: 'put', key: key.toString('latin1'), value: value.toString('latin1') }
    if (options.condition) command.condition = options.condition
    if (options.returnOld) command.returnOld = true
    const result = await this.run(command)
    return {
      written: putAllowed(options.condition, result.found),
      old: options.returnOld && result.found ? Buffer.from(result.value, 'latin1') : null,
    }
  }

  async getdel(key: Buffer): Promise<Buffer | null> {
    const result = await this.run({ op: 'getdel', key: key.toString('latin1'), value: '' })
    return result.found ? Buffer.from(result.value, 'latin1') : null
  }

  async incrBy(key: Buffer, delta: bigint): Promise<bigint> {
    const result = await this.run({ op: 'incr', key: key.toString('latin1'), value: delta.toString() })
    if (result.error !== undefined) throw new RespError('ERR', result.error)
    return BigInt(result.value)
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
}
