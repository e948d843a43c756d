// The RESP endpoint's backend on a shard group node: forwarding. Each command goes to the group that
// owns its key's shard, whichever group this node belongs to, through a ShardClerk (routed by the
// latest configuration, retried across the owner's servers and through migrations, exactly once).
// Clerks are pooled: each serves one request at a time, so concurrent connections use distinct
// sessions.

import { RespError } from '../resp/errors.js'
import type { KvBackend, KvInfoSections } from '../resp/backend.js'
import type { Transport } from '../rpc/transport.js'
import type { KeyToShard, ShardConfig } from '../shard/config.js'
import type { ConfigSource } from '../shard/group-server.js'
import { ShardClerk } from '../shard/shard-clerk.js'
import { type Clock, type TimerHandle, systemClock } from '../base/clock.js'
import type { KvCommand, KvResult } from '../kv/kv.js'
import { shardRefusal } from '../shard/group-machine.js'
import { routingKey } from '../kv/kv-ops.js'

export interface ShardForwardingBackendOptions {
  transport: Transport
  controller: ConfigSource
  shardCount: number
  keyToShard: KeyToShard
  /**
   * A request that has not completed in this time fails with -TRYAGAIN (its outcome is unknown; its
   * clerk keeps retrying it, so it takes effect at most once).
   */
  requestTimeoutMs: number
  rpcTimeoutMs: number
  /** Pause before a clerk asks the controller again after ErrWrongGroup. */
  retryPauseMs: number
  /** Clerks at once; a request beyond this, while every one is busy, fails with -TRYAGAIN. */
  maxClerks: number
  info: () => KvInfoSections
  /** CONFIG RESETSTAT: starts over what `info` counts. */
  resetStats?: () => void
  clock?: Clock
}

/** Concurrent asks for the latest configuration share one query to the controller. */
class SharedLatestConfig implements ConfigSource {
  private inFlight: Promise<ShardConfig> | null = null

  constructor(private readonly controller: ConfigSource) {}

  query(num: number): Promise<ShardConfig> {
    if (num >= 0) return this.controller.query(num)
    this.inFlight ??= this.controller.query(-1).finally(() => {
      this.inFlight = null
    })
    return this.inFlight
  }
}

export class ShardForwardingBackend implements KvBackend {
  private readonly idle: ShardClerk[] = []
  private readonly controller: ConfigSource
  private readonly clock: Clock
  private clerks = 0

  constructor(private readonly options: ShardForwardingBackendOptions) {
    this.controller = new SharedLatestConfig(options.controller)
    this.clock = options.clock ?? systemClock
  }

  async info(): Promise<KvInfoSections> {
    return this.options.info()
  }

  resetStats(): void {
    this.options.resetStats?.()
  }

  /** Forwards `command` to its shard's group; keys of several shards (CROSSSLOT) or none are refused here, before any group sees them. */
  async execute(command: KvCommand): Promise<KvResult> {
    const refusal = shardRefusal(command, this.options.keyToShard(routingKey(command), this.options.shardCount), this.options)
    if (refusal) return refusal
    const clerk = this.take()
    const outcome = clerk.execute(command)
    // Back to the pool only once it is done: a clerk runs one request at a time, and one that
    // outlives its deadline keeps retrying under the same sequence number.
    const release = (): void => {
      this.idle.push(clerk)
    }
    outcome.then(release, release)
    let timer: TimerHandle = undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => {
        reject(
          new RespError(
            'TRYAGAIN',
            `${command.op} of ${JSON.stringify(command.key.slice(0, 64))} did not complete within ${this.options.requestTimeoutMs}ms; its outcome is unknown`,
          ),
        )
      }, this.options.requestTimeoutMs)
    })
    try {
      return await Promise.race([outcome, deadline])
    } finally {
      this.clock.clearTimeout(timer)
    }
  }

  private take(): ShardClerk {
    const clerk = this.idle.pop()
    if (clerk) return clerk
    if (this.clerks >= this.options.maxClerks) throw new RespError('TRYAGAIN', `all ${this.options.maxClerks} forwarding clerks are busy`)
    this.clerks++
    return new ShardClerk({
      controller: this.controller,
      transport: this.options.transport,
      shardCount: this.options.shardCount,
      keyToShard: this.options.keyToShard,
      rpcTimeoutMs: this.options.rpcTimeoutMs,
      retryPauseMs: this.options.retryPauseMs,
      clock: this.clock,
    })
  }
}
