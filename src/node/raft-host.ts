// What every lograft replica process starts from: its log in classic-level (refusing another
// node's or cluster's data directory), a TcpTransport listening on its own address (plain TCP or
// mutual TLS, with the handshake that admits only the cluster's members as peers and refuses one
// that lost its state), and a Raft node over the two. The shard controller and the shard group
// nodes are built on it.

import { openDiskLog } from '../log/backends.js'
import { IdentityMismatchError } from '../log/errors.js'
import type { LogStore } from '../log/log-store.js'
import { RaftNode } from '../raft/node.js'
import { membersDigest } from '../rpc/handshake.js'
import { DEFAULT_MAX_FRAME_BYTES, TcpTransport } from '../rpc/tcp-transport.js'
import type { TlsConfig } from '../rpc/tls.js'
import { assert } from '../util/assert.js'
import type { Logger } from '../util/logger.js'
import { incarnationCheck } from './peer-incarnations.js'
import { type Peer, PeerListError } from './peers.js'

export interface RaftHostOptions {
  id: string
  peers: readonly Peer[]
  dataDirectory: string
  /** Required to create a new data directory (every founding member gets the same); checked against an existing one. */
  clusterId?: string
  /**
   * For a cluster that is one part of a larger deployment (the shard controller, a shard group):
   * `clusterId` names the deployment and the data directory records `clusterId:role`, so a
   * directory is never opened as another part's, nor as another deployment's.
   */
  role?: string
  /** Mutual TLS for the Raft and client port. Absent: plain TCP. */
  tls?: TlsConfig
  /** Largest frame on the port; see TcpTransportOptions.maxFrameBytes. */
  maxFrameBytes?: number
  logger: Logger
}

export interface RaftHost {
  readonly store: LogStore
  readonly transport: TcpTransport
  readonly raft: RaftNode
  /** This node's own "host:port". */
  readonly address: string
  /** The cluster this node belongs to, as its data directory records it. */
  readonly clusterId: string
}

/** The default largest value: values travel in single frames and log entries, so they are kept small (as etcd's are). */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024

/** Frames must hold a value plus its key and envelope: a few MiB, more if values may be larger. */
export function maxFrameBytesFor(maxValueBytes: number): number {
  return Math.max(DEFAULT_MAX_FRAME_BYTES, maxValueBytes + 1024 * 1024)
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

/**
 * Opens the store, starts the transport and creates the Raft node (not started). If `assemble`
 * throws, everything opened here is closed again before the error is passed on.
 */
export async function startRaftHost<T>(options: RaftHostOptions, assemble: (host: RaftHost) => Promise<T>): Promise<T> {
  const self = options.peers.find((peer) => peer.id === options.id)
  if (!self) throw new PeerListError(`node ${options.id} is not in the peer list (${options.peers.map((peer) => peer.id).join(', ')})`)
  const clusterId = options.clusterId === undefined || options.role === undefined ? options.clusterId : `${options.clusterId}:${options.role}`
  const identity = { nodeId: options.id, ...(clusterId === undefined ? {} : { clusterId }) }
  const store = await openDiskLog(options.dataDirectory, { name: options.dataDirectory, identity })
  let transport: TcpTransport | null = null
  try {
    const stored = store.identity
    assert(stored !== null, 'a store opened with an identity records one')
    if (options.role !== undefined && !stored.clusterId.endsWith(`:${options.role}`)) {
      throw new IdentityMismatchError(options.dataDirectory, `node ${options.id} of a shard deployment's ${options.role}`, `node ${stored.nodeId} of cluster ${stored.clusterId}`)
    }
    if (!options.tls && self.parsed.path === undefined && !LOOPBACK.test(self.parsed.host)) {
      options.logger.warn('listening without TLS on a non-loopback address: anyone who can reach it can talk to this node; use --tls-cert, --tls-key and --tls-ca', {
        address: self.address,
      })
    }
    const peers = Object.fromEntries(options.peers.map((peer) => [peer.id, peer.address]))
    transport = await TcpTransport.start({
      self: options.id,
      listen: self.parsed,
      peers,
      cluster: { clusterId: stored.clusterId, incarnation: stored.incarnation, membersDigest: membersDigest(peers) },
      checkIncarnation: incarnationCheck(store, options.logger),
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes }),
      logger: options.logger,
    })
    const raft = await RaftNode.create({ id: options.id, members: options.peers.map((peer) => peer.id), transport, store, logger: options.logger })
    return await assemble({ store, transport, raft, address: self.address, clusterId: stored.clusterId })
  } catch (error) {
    await transport?.close()
    await store.close()
    throw error
  }
}

/** INFO's Replication and Persistence sections for a Raft replica. */
export function raftInfo(id: string, clusterId: string, raft: RaftNode): Record<string, Record<string, string | number>> {
  const status = raft.status()
  const sizes = raft.sizes()
  return {
    Replication: {
      role: status.role,
      node: id,
      cluster_id: clusterId,
      term: status.term,
      leader: status.leaderId ?? '',
      commit_index: status.commitIndex,
      applied_index: status.appliedIndex,
      last_index: status.lastIndex,
      snapshot_index: status.snapshotIndex,
    },
    Persistence: { raft_state_bytes: sizes.raftStateBytes, snapshot_bytes: sizes.snapshotBytes },
  }
}
