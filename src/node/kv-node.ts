// A complete lograft KV replica as one object: Raft over TcpTransport, the log in classic-level,
// the KV state machine and service, and (optionally) a RESP endpoint that redis-cli can talk to.
// `lograft node` is a thin shell over this; embedders can start one in their own process.

import type { RaftNode } from '../raft/node.js'
import { RespServer } from '../resp/server.js'
import type { KvInfoSections } from '../resp/backend.js'
import { KvService } from '../kv/kv-service.js'
import { kvMachine } from '../kv/kv.js'
import { ReplicatedStateMachine } from '../statemachine/runtime.js'
import type { KvReplica } from '../kv/kv-service.js'
import { stderrLogger } from '../base/logger.js'
import { ClerkPoolBackend } from './kv-backend.js'
import { DEFAULT_MAX_RAFT_STATE_BYTES, type ReplicaOptions } from './replica-options.js'
import { type NodeMonitoring, startNodeMonitoring } from './monitoring.js'
import { registerRespMetrics } from '../metrics/resp-metrics.js'
import { type RespEndpoint, type RespSecurityOptions, startRespEndpoint } from './resp-endpoint.js'
import { DEFAULT_MAX_VALUE_BYTES, type RaftHost, maxFrameBytesFor, raftInfo, startRaftHost } from './raft-host.js'

/** How {@link KvNode.start} sets up a KV replica. */
export interface KvNodeOptions extends ReplicaOptions, RespSecurityOptions {
  /** "host:port" for the RESP endpoint; omit for none. */
  respAddress?: string
  /** Largest value a client may write. Default 1 MiB (the peer port's frames grow to fit larger ones). */
  maxValueBytes?: number
  /** A client request that cannot complete (no quorum) fails after this long. Default 5000 ms. */
  requestTimeoutMs?: number
}

/**
 * A complete lograft KV replica in one object: Raft over TcpTransport, the log in classic-level,
 * the KV state machine served for {@link KvClerk}, and optionally a RESP endpoint redis-cli can
 * talk to. `lograft node` is a thin shell over it; embedders can start one in their own process.
 */
export class KvNode {
  private constructor(
    readonly id: string,
    /** The cluster, as the data directory records it. */
    readonly clusterId: string,
    readonly raft: RaftNode,
    readonly replica: KvReplica,
    private readonly host: RaftHost,
    private readonly resp: RespServer | null,
    readonly respPort: number | null,
    /** Its metrics registry and monitoring port (options.metricsAddress). */
    readonly monitoring: NodeMonitoring,
  ) {}

  /**
   * Opens the data directory (joining the cluster first if it is new and `join` is given), starts
   * serving, and resolves once it does. Refuses another node's or cluster's data directory
   * (IdentityMismatchError), and a new one without a clusterId (ClusterIdRequiredError).
   */
  static async start(options: KvNodeOptions): Promise<KvNode> {
    const logger = options.logger ?? stderrLogger
    const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
    return startRaftHost({ ...options, maxFrameBytes: maxFrameBytesFor(maxValueBytes), logger }, async (host) => {
      const { raft, transport, clusterId } = host
      const maxRaftStateBytes = options.maxRaftStateBytes ?? DEFAULT_MAX_RAFT_STATE_BYTES
      const replica: KvReplica = new ReplicatedStateMachine({
        raft,
        machine: kvMachine({ appendReturnsOldValue: false }),
        ...(maxRaftStateBytes > 0 ? { maxRaftStateBytes } : {}),
        logger,
      })
      const local = new KvService(replica, { maxValueBytes }).register(transport)
      let resp: RespEndpoint | null = null
      if (options.respAddress) {
        const backend = new ClerkPoolBackend({
          transport,
          servers: () => raft.members().configuration.voters.map((member) => member.id),
          requestTimeoutMs: options.requestTimeoutMs ?? 5000,
          rpcTimeoutMs: 1000,
          info: () => infoSections(options.id, clusterId, raft, replica),
          local,
        })
        resp = await startRespEndpoint(options.respAddress, options, options.tls, { backend, logger, maxValueBytes, info: { lograft_node: options.id } })
      }
      const respServer = resp?.server ?? null
      const monitoring = await startNodeMonitoring({
        replica,
        transport,
        clusterId,
        labels: { node: options.id },
        address: options.metricsAddress,
        logger,
        collectors: respServer ? [(registry) => registerRespMetrics(registry, respServer)] : [],
      })
      replica.start()
      return new KvNode(options.id, clusterId, raft, replica, host, resp?.server ?? null, resp?.port ?? null, monitoring)
    })
  }

  /** Resolves if the node stops on a failure (a failed durable write, lost state); see RaftNode.failed. */
  get failed(): Promise<Error> {
    return this.raft.failed
  }

  /** Stops serving and closes the store; every acknowledged write is already durable. */
  async stop(): Promise<void> {
    this.host.stopFollowing()
    await this.monitoring.close()
    await this.resp?.close()
    await this.replica.stop()
    await this.host.transport.close()
    await this.host.store.close()
  }

  /** Resolves when this node's removal from the cluster commits (`lograft node` then exits). */
  get removed(): Promise<void> {
    return this.host.removed
  }

  /** The "host:port" of the Raft and client port. */
  get address(): string {
    return this.host.address
  }
}

function infoSections(id: string, clusterId: string, raft: RaftNode, replica: KvReplica): KvInfoSections {
  return {
    ...raftInfo(id, clusterId, raft),
    Keyspace: { db0: `keys=${replica.state.size},expires=${replica.state.deadlines.size}` },
    Sessions: { sessions: replica.sessionCount },
  }
}
