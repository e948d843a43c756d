import type { Transport } from '../rpc/transport.js'
import type { Clock } from '../base/clock.js'
import { MachineClerk } from '../statemachine/machine-clerk.js'
import type { ShardConfig } from './config.js'
import { type ControllerCommand, type ControllerResult, type ControllerState, controllerMachine } from './controller-machine.js'

/** How {@link ControllerClerk.connect} reaches the controller; times in ms. */
export interface ControllerClerkOptions {
  /** The transport to call the controller on; the clerk does not close it. */
  transport: Transport
  /** The controller's servers, by names the transport can call. */
  servers: readonly string[]
  /** The deployment's shard count, the same as the controller's. */
  shardCount: number
  /** Per-RPC timeout; default the transport's. */
  rpcTimeoutMs?: number
  /** Draws the clerk's random client id; default Math.random. */
  random?: () => number
  clock?: Clock
}

/**
 * The shard controller's clerk (the lab's shardctrler Clerk): join, leave, move and query as typed
 * calls over a {@link MachineClerk}, which finds the controller's leader and retries, with no
 * deadline, under an exactly-once session. Group servers, the sharded KV's clerks and the admin
 * commands all use it. One call at a time per clerk.
 */
export class ControllerClerk {
  /** Wraps a MachineClerk of the controller machine; {@link ControllerClerk.connect} makes both. */
  constructor(private readonly clerk: MachineClerk<ControllerState, ControllerCommand, ControllerResult>) {}

  /** A clerk of the controller at `options.servers`; nothing is sent until the first call. */
  static connect(options: ControllerClerkOptions): ControllerClerk {
    const { shardCount, ...clerkOptions } = options
    return new ControllerClerk(new MachineClerk(controllerMachine(shardCount), clerkOptions))
  }

  /** Configuration number `num`; -1 (or a number past the latest) gives the latest. */
  async query(num: number): Promise<ShardConfig> {
    return (await this.clerk.execute({ kind: 'query', num })).config
  }

  /**
   * Adds replica groups (gid to its servers' addresses; a known gid gets its servers replaced) and
   * rebalances the shards, moving as few as possible. Resolves with the new configuration.
   */
  async join(servers: Record<number, string[]>): Promise<ShardConfig> {
    return (await this.clerk.execute({ kind: 'join', servers })).config
  }

  /** Removes replica groups, handing their shards to the others evenly. Resolves with the new configuration. */
  async leave(gids: number[]): Promise<ShardConfig> {
    return (await this.clerk.execute({ kind: 'leave', gids })).config
  }

  /**
   * Assigns `shard` to group `gid` (until a later join or leave rebalances it). A shard or group
   * that does not exist changes nothing: the result's `error` says why.
   */
  async move(shard: number, gid: number): Promise<ControllerResult> {
    return this.clerk.execute({ kind: 'move', shard, gid })
  }
}
