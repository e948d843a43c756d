// An in-memory KvBackend over the KV machine itself, for the RESP server tests: it records calls, can
// delay or fail any of them, and tracks how many overlap (the server must never overlap one
// connection's).

import type { KvBackend, KvInfoSections } from '../../src/resp/backend.js'
import { sleep, systemClock } from '../../src/base/clock.js'
import { type KvCommand, type KvOp, type KvResult, KvState, commandKeys, kvMachine } from '../../src/kv/kv.js'

/** A KV op, or 'info'. */
export type KvOperation = KvOp | 'info'

export interface MapKvBackendHooks {
  /** How long the call should take; 0 or absent answers at once (still asynchronously). */
  delayMs?: (operation: KvOperation, keys: readonly string[]) => number
  /** An error to throw instead of answering. */
  failure?: (operation: KvOperation, keys: readonly string[]) => Error | undefined
  /** Offer executeBatch (as lograft's node does), so pipelined writes arrive together. */
  batches?: boolean
}

const machine = kvMachine({ appendReturnsOldValue: false })

export class MapKvBackend implements KvBackend {
  /** The KV machine's state, applied to in the order calls complete. */
  readonly state = new KvState()
  /** Every call as "op key key…", in the order calls started. */
  readonly calls: string[] = []
  /** The most calls that were in progress at the same time. */
  maxConcurrentCalls = 0
  private inProgress = 0

  /** Set when the hooks ask for batches: pipelined writes arrive as one transaction. */
  readonly executeBatch?: (commands: KvCommand[]) => Promise<KvResult[]>

  constructor(private readonly hooks: MapKvBackendHooks = {}) {
    if (hooks.batches) {
      this.executeBatch = async (commands) => (await this.execute({ op: 'multi', key: '', value: '', commands })).results ?? []
    }
  }

  execute(command: KvCommand): Promise<KvResult> {
    return this.call(command.op, commandKeys(command), () => machine.apply(this.state, command, { index: 0, term: 0, timeMs: Date.now() }).result)
  }

  info(): Promise<KvInfoSections> {
    return this.call('info', [], () => ({ Keyspace: { db0: `keys=${this.state.size},expires=${this.state.deadlines.size},avg_ttl=0` } }))
  }

  private async call<T>(operation: KvOperation, keys: readonly string[], answer: () => T): Promise<T> {
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
