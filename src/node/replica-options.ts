// What every kind of node is started with, in one place: MachineNode, KvNode and the shard
// controller's and groups' servers differ in what they serve, not in where and as whom they run.

import type { Logger } from '../base/logger.js'
import type { TlsConfig } from '../rpc/tls.js'
import type { Peer } from './peers.js'

/** The Raft state at which a node holding data (a KV, a shard group, an embedder's machine) snapshots: 32 MiB. */
export const DEFAULT_MAX_RAFT_STATE_BYTES = 32 * 1024 * 1024

/** Where and as whom a replica runs: the options every node's `start` takes. */
export interface ReplicaOptions {
  /** This node's id, unique in its cluster (or, for a shard server, in its group). */
  id: string
  /**
   * The founding members of a new cluster, this node among them. A restarted node takes its
   * members from its store and log instead; a node that joins gives none.
   */
  peers?: readonly Peer[]
  /** Where the Raft and client port listens ("host:port"); default: this node's address in `peers` or in its configuration. */
  listen?: string
  /**
   * Any member's address: a node with a new data directory asks the cluster there to add it (as a
   * learner, promoted once caught up). Ignored once the directory exists: the node resumes.
   */
  join?: string
  /** The LevelDB directory of this node's log; it records the node's and cluster's identity. */
  dataDirectory: string
  /**
   * The cluster (or sharded deployment) this node belongs to: required to create a new data
   * directory (give every founding member the same, e.g. a random one from newClusterId()); an
   * existing directory knows its own, and one of another cluster or node is refused.
   */
  clusterId?: string
  /** Mutual TLS on the Raft and client port (and a shard server's calls to others). Absent: plain TCP. */
  tls?: TlsConfig
  /** Snapshot when the Raft state reaches this many bytes; 0: never. Default DEFAULT_MAX_RAFT_STATE_BYTES (4 MiB for the shard controller, whose state is small). */
  maxRaftStateBytes?: number
  /**
   * Serve reads on the leader's lease, without a heartbeat round (RaftNodeOptions.leaseReads: safe
   * while clocks drift less than 10% over an election timeout; give every member the same). Default false.
   */
  leaseReads?: boolean
  /** Serve /metrics (Prometheus), /healthz and /readyz over HTTP on this "host:port"; omit for none. */
  metricsAddress?: string
  /** Default: stderr. */
  logger?: Logger
}
