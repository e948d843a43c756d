// A complete replica of any StateMachine as one object — your machine served the way lograft serves
// its own KV: Raft over TcpTransport (plain or mutual TLS), the log in classic-level, the machine
// folded over the committed log, `<machine name>.Execute` for MachineClerk clients, membership
// changes, fail-stop on a failed disk. `lograft node --machine PATH` is a thin shell over it.

import type { RaftNode } from '../raft/node.js'
import { serveMachine } from '../statemachine/machine-service.js'
import { ReplicatedStateMachine } from '../statemachine/runtime.js'
import type { StateMachine } from '../statemachine/types.js'
import { stderrLogger } from '../base/logger.js'
import { DEFAULT_MAX_RAFT_STATE_BYTES, type ReplicaOptions } from './replica-options.js'
import { type NodeMonitoring, startNodeMonitoring } from './monitoring.js'
import { type RaftHost, startRaftHost } from './raft-host.js'

/** How {@link MachineNode.start} sets up a replica. */
export interface MachineNodeOptions<State, Command, Result> extends ReplicaOptions {
  /** The machine every member of the cluster runs (the same one, by name and version). */
  machine: StateMachine<State, Command, Result>
  /** Commands to refuse before they reach the log; see MachineServiceOptions.refuse. */
  refuse?: (command: Command) => string | null
}

/** A running replica of `machine`; stop() to stop it. */
export class MachineNode<State, Command, Result> {
  private constructor(
    readonly id: string,
    /** The cluster, as the data directory records it. */
    readonly clusterId: string,
    readonly replica: ReplicatedStateMachine<State, Command, Result>,
    private readonly host: RaftHost,
    /** Its metrics registry and monitoring port (options.metricsAddress). */
    readonly monitoring: NodeMonitoring,
  ) {}

  /** Opens the data directory (joining first if asked), starts serving, and resolves once it does. */
  static async start<State, Command, Result>(options: MachineNodeOptions<State, Command, Result>): Promise<MachineNode<State, Command, Result>> {
    const logger = options.logger ?? stderrLogger
    return startRaftHost({ ...options, logger }, async (host) => {
      const maxRaftStateBytes = options.maxRaftStateBytes ?? DEFAULT_MAX_RAFT_STATE_BYTES
      const replica = new ReplicatedStateMachine({
        raft: host.raft,
        machine: options.machine,
        ...(maxRaftStateBytes > 0 ? { maxRaftStateBytes } : {}),
        logger,
      })
      serveMachine(replica, host.transport, options.refuse ? { refuse: options.refuse } : {})
      const monitoring = await startNodeMonitoring({
        replica,
        transport: host.transport,
        clusterId: host.clusterId,
        labels: { node: options.id },
        address: options.metricsAddress,
        logger,
      })
      replica.start()
      return new MachineNode(options.id, host.clusterId, replica, host, monitoring)
    })
  }

  get raft(): RaftNode {
    return this.host.raft
  }

  /** The "host:port" of the Raft and client port. */
  get address(): string {
    return this.host.address
  }

  /** Resolves if the node stops on a failure (a failed durable write, lost state); see RaftNode.failed. */
  get failed(): Promise<Error> {
    return this.host.raft.failed
  }

  /** Resolves when this node's removal from the cluster commits. */
  get removed(): Promise<void> {
    return this.host.removed
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
