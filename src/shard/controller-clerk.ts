// The shard controller's clerk (the lab's shardctrler Clerk): join, leave, move and query as typed
// calls over a MachineClerk, which finds the controller's leader and retries with an exactly-once
// session. Group servers, the sharded KV's clerks and the admin commands all use it.

import type { Transport } from '../rpc/transport.js'
import type { Clock } from '../base/clock.js'
import { MachineClerk } from '../statemachine/machine-clerk.js'
import type { ShardConfig } from './config.js'
import { type ControllerCommand, type ControllerResult, type ControllerState, controllerMachine } from './controller-machine.js'

export interface ControllerClerkOptions {
  transport: Transport
  /** The controller's servers, by names the transport can call. */
  servers: readonly string[]
  shardCount: number
  rpcTimeoutMs?: number
  random?: () => number
  clock?: Clock
}

export class ControllerClerk {
  constructor(private readonly clerk: MachineClerk<ControllerState, ControllerCommand, ControllerResult>) {}

  static connect(options: ControllerClerkOptions): ControllerClerk {
    const { shardCount, ...clerkOptions } = options
    return new ControllerClerk(new MachineClerk(controllerMachine(shardCount), clerkOptions))
  }

  async query(num: number): Promise<ShardConfig> {
    return (await this.clerk.execute({ kind: 'query', num })).config
  }

  async join(servers: Record<number, string[]>): Promise<ShardConfig> {
    return (await this.clerk.execute({ kind: 'join', servers })).config
  }

  async leave(gids: number[]): Promise<ShardConfig> {
    return (await this.clerk.execute({ kind: 'leave', gids })).config
  }

  async move(shard: number, gid: number): Promise<ControllerResult> {
    return this.clerk.execute({ kind: 'move', shard, gid })
  }
}
