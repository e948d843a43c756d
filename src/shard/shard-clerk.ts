// The sharded KV's clerk: maps each key to its shard and the shard to its group by the latest
// configuration it knows, retries across the group's servers, and on ErrWrongGroup (or a group it
// cannot reach) asks the controller for the latest configuration and tries again — forever, as
// the lab's clerk does. One request at a time, with an exactly-once session.

import { invoke } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'
import { type Clock, sleep, systemClock } from '../base/clock.js'
import { type KvCommand, type KvResult, isReadCommand, routingKey } from '../kv/kv.js'
import { shardKvCommandMethod } from './client-rpc.js'
import { type KeyToShard, type ShardConfig, firstByteShard, initialConfig } from './config.js'
import type { ConfigSource } from './group-server.js'
import { SerialQueue } from '../base/serial-queue.js'
import { type Answer, LeaderSeeker } from '../statemachine/leader-seeker.js'

export interface ShardClerkOptions {
  controller: ConfigSource
  transport: Transport
  shardCount: number
  keyToShard?: KeyToShard
  clientId?: number
  random?: () => number
  clock?: Clock
  rpcTimeoutMs?: number
  /** Pause before asking the controller again. Default 100 ms. */
  retryPauseMs?: number
}

export class ShardClerk {
  readonly clientId: number
  private config: ShardConfig
  private sequence = 0
  private readonly seekers = new Map<number, LeaderSeeker>()
  private readonly queue = new SerialQueue()
  private readonly clock: Clock
  private readonly keyToShard: KeyToShard

  constructor(private readonly options: ShardClerkOptions) {
    this.clock = options.clock ?? systemClock
    this.keyToShard = options.keyToShard ?? firstByteShard
    this.clientId = options.clientId ?? 1 + Math.floor((options.random ?? Math.random)() * 2 ** 52)
    this.config = initialConfig(options.shardCount)
  }

  async get(key: string): Promise<string> {
    return (await this.execute({ op: 'get', key, value: '' })).value
  }

  async put(key: string, value: string): Promise<void> {
    await this.execute({ op: 'put', key, value })
  }

  append(key: string, value: string): Promise<KvResult> {
    return this.execute({ op: 'append', key, value })
  }

  execute(command: KvCommand): Promise<KvResult> {
    return this.queue.run(() => this.attempt(command))
  }

  private async attempt(command: KvCommand): Promise<KvResult> {
    const sequence = isReadCommand(command) ? 0 : ++this.sequence
    const shard = this.keyToShard(routingKey(command), this.options.shardCount)
    const request = { clientId: this.clientId, sequence, command }
    const callOptions = { timeoutMs: this.options.rpcTimeoutMs ?? 1000 }
    const ask = async (server: string): Promise<Answer<KvResult>> => {
      try {
        const reply = await invoke(this.options.transport, server, shardKvCommandMethod, request, callOptions)
        if (reply.err === 'OK') return { kind: 'done', value: reply.result }
        if (reply.err === 'ErrWrongGroup') return { kind: 'stop' } // The shard moved: ask the controller.
      } catch {
        // Lost, unreachable or timed out: try the group's next server.
      }
      return { kind: 'retry' }
    }
    for (;;) {
      const gid = this.config.shards[shard] as number
      const round = await this.seekerFor(gid).round(this.config.groups[gid] ?? [], ask)
      if (round.kind === 'done') return round.value
      await sleep(this.clock, this.options.retryPauseMs ?? 100)
      this.config = await this.options.controller.query(-1)
    }
  }

  /** Each group's servers are sought separately: the leader of one says nothing of another's. */
  private seekerFor(gid: number): LeaderSeeker {
    let seeker = this.seekers.get(gid)
    if (!seeker) {
      seeker = new LeaderSeeker()
      this.seekers.set(gid, seeker)
    }
    return seeker
  }
}
