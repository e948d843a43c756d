// The shard controller as a real replica: the controller state machine folded over a Raft log in
// classic-level, over TcpTransport, served with serveMachine (`ShardController.Execute`).
// `lograft shard controller` is a thin shell over this.

import { DEFAULT_SHARD_COUNT } from '../shard/config.js'
import { type ControllerCommand, type ControllerResult, type ControllerState, controllerMachine } from '../shard/controller-machine.js'
import { serveMachine } from '../statemachine/machine-service.js'
import { ReplicatedStateMachine } from '../statemachine/runtime.js'
import { stderrLogger } from '../base/logger.js'
import type { ReplicaOptions } from './replica-options.js'
import { type NodeMonitoring, startNodeMonitoring } from './monitoring.js'
import { type RaftHost, startRaftHost } from './raft-host.js'

/** The shard controller's state machine as it runs on a {@link ShardControllerNode}. */
export type ControllerReplica = ReplicatedStateMachine<ControllerState, ControllerCommand, ControllerResult>

/** How {@link ShardControllerNode.start} sets up a controller server. */
export interface ShardControllerNodeOptions extends ReplicaOptions {
  /** Default 10; every group and clerk of the deployment must use the same count. */
  shardCount?: number
}

/** The controller's role in its deployment: its directory records `deployment:controller`. */
export const CONTROLLER_ROLE = 'controller'

/**
 * One server of a sharded deployment's controller: the Raft group that keeps the deployment's
 * configurations (which replica group serves which shard), served as `ShardController.Execute` for
 * {@link ControllerClerk}. `lograft shard controller` is a thin shell over it.
 */
export class ShardControllerNode {
  private constructor(
    readonly id: string,
    readonly replica: ControllerReplica,
    private readonly host: RaftHost,
    /** Its metrics registry and monitoring port (options.metricsAddress). */
    readonly monitoring: NodeMonitoring,
  ) {}

  /**
   * Opens the data directory (joining the controller's group first if it is new and `join` is
   * given), starts serving, and resolves once it does. Refuses a directory of another deployment
   * or of a group rather than the controller (IdentityMismatchError).
   */
  static async start(options: ShardControllerNodeOptions): Promise<ShardControllerNode> {
    const logger = options.logger ?? stderrLogger
    return startRaftHost({ ...options, role: CONTROLLER_ROLE, logger }, async (host) => {
      const maxRaftStateBytes = options.maxRaftStateBytes ?? 4 * 1024 * 1024
      const replica: ControllerReplica = new ReplicatedStateMachine({
        raft: host.raft,
        machine: controllerMachine(options.shardCount ?? DEFAULT_SHARD_COUNT),
        ...(maxRaftStateBytes > 0 ? { maxRaftStateBytes } : {}),
        logger,
      })
      serveMachine(replica, host.transport)
      const monitoring = await startNodeMonitoring({
        replica,
        transport: host.transport,
        clusterId: host.clusterId,
        labels: { node: options.id, role: 'controller' },
        address: options.metricsAddress,
        logger,
      })
      replica.start()
      return new ShardControllerNode(options.id, replica, host, monitoring)
    })
  }

  /** Resolves when this server's removal from its group commits. */
  get removed(): Promise<void> {
    return this.host.removed
  }

  /** Resolves if the node stops on a failure (a failed durable write, lost state); see RaftNode.failed. */
  get failed(): Promise<Error> {
    return this.host.raft.failed
  }

  /** This node's "host:port", the name groups and clerks call it by. */
  get address(): string {
    return this.host.address
  }

  /** Stops serving and closes the store; every acknowledged command is already durable. */
  async stop(): Promise<void> {
    this.host.stopFollowing()
    await this.monitoring.close()
    await this.replica.stop()
    await this.host.transport.close()
    await this.host.store.close()
  }
}
