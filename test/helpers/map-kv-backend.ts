// An in-memory KvBackend over a Map, for the RESP server tests: it records calls, can delay or
// fail any of them, and tracks how many overlap (the server must never overlap one connection's).

import type { KvBackend, KvInfoSections, SetOptions } from '../../src/resp/backend.js'
import { sleep, systemClock } from '../../src/base/clock.js'
import { putAllowed } from '../../src/kv/kv.js'

export type KvOperation = 'get' | 'set' | 'getdel' | 'append' | 'del' | 'exists' | 'incrby' | 'info'

export interface MapKvBackendHooks {
  /** How long the call should take; 0 or absent answers at once (still asynchronously). */
  delayMs?: (operation: KvOperation, keys: readonly string[]) => number
  /** An error to throw instead of answering. */
  failure?: (operation: KvOperation, keys: readonly string[]) => Error | undefined
}

export class MapKvBackend implements KvBackend {
  /** Keys as latin1 strings: one character per byte, so binary keys survive. */
  readonly data = new Map<string, Buffer>()
  /** Every call as "operation key key…", in the order calls started. */
  readonly calls: string[] = []
  /** The most calls that were in progress at the same time. */
  maxConcurrentCalls = 0
  private inProgress = 0

  constructor(private readonly hooks: MapKvBackendHooks = {}) {}

  get(key: Buffer): Promise<Buffer | null> {
    return this.call('get', [key], () => this.data.get(key.toString('latin1')) ?? null)
  }

  set(key: Buffer, value: Buffer): Promise<void> {
    return this.call('set', [key], () => {
      this.data.set(key.toString('latin1'), Buffer.from(value))
    })
  }

  append(key: Buffer, suffix: Buffer): Promise<number> {
    return this.call('append', [key], () => {
      const value = Buffer.concat([this.data.get(key.toString('latin1')) ?? Buffer.alloc(0), suffix])
      this.data.set(key.toString('latin1'), value)
      return value.length
    })
  }

  setWith(key: Buffer, value: Buffer, options: SetOptions): Promise<{ written: boolean; old: Buffer | null }> {
    return this.call('set', [key], () => {
      const old = this.data.get(key.toString('latin1')) ?? null
      const written = putAllowed(options.condition, old !== null)
      if (written) this.data.set(key.toString('latin1'), Buffer.from(value))
      return { written, old: options.returnOld ? old : null }
    })
  }

  getdel(key: Buffer): Promise<Buffer | null> {
    return this.call('getdel', [key], () => {
      const old = this.data.get(key.toString('latin1')) ?? null
      this.data.delete(key.toString('latin1'))
      return old
    })
  }

  /** A plain sum in 64 bits: the server's argument checks are what the RESP tests look at. */
  incrBy(key: Buffer, delta: bigint): Promise<bigint> {
    return this.call('incrby', [key], () => {
      const next = BigInt(this.data.get(key.toString('latin1'))?.toString('latin1') ?? '0') + delta
      this.data.set(key.toString('latin1'), Buffer.from(next.toString(), 'latin1'))
      return next
    })
  }

  del(keys: Buffer[]): Promise<number> {
    return this.call('del', keys, () => keys.filter((key) => this.data.delete(key.toString('latin1'))).length)
  }

  exists(keys: Buffer[]): Promise<number> {
    return this.call('exists', keys, () => keys.filter((key) => this.data.has(key.toString('latin1'))).length)
  }

  info(): Promise<KvInfoSections> {
    return this.call('info', [], () => ({ Keyspace: { db0: `keys=${this.data.size},expires=0,avg_ttl=0` } }))
  }

  private async call<T>(operation: KvOperation, keyBytes: readonly Buffer[], answer: () => T): Promise<T> {
    const keys = keyBytes.map((key) => key.toString('latin1'))
    this.calls.push([operation, ...keys].join(' '))
    this.inProgress++
    this.maxConcurrentCalls = Math.max(this.maxConcurrentCalls, this.inProgress)
    try {
      const delayMs = this.hooks.delayMs?.(operation, keys) ?? 0
      if (delayMs > 0) await sleep(systemClock, delayMs)
      const failure = this.hooks.failure?.(operation, keys)
      if (failure) throw failure
      return answer()
    } finally {
      this.inProgress--
    }
  }
}
