// What every lograft replica process starts from: its log in classic-level (refusing another
// node's or cluster's data directory), a TcpTransport listening on its own address, and a Raft
// node over the two. The shard controller and the shard group nodes are built on it.

import { openDiskLog } from '../log/backends.js'
import type { LogStore } from '../log/log-store.js'
import { RaftNode } from '../raft/node.js'
import { TcpTransport } from '../rpc/tcp-transport.js'
import type { Logger } from '../util/logger.js'
import { type Peer, PeerListError } from './peers.js'

export interface RaftHostOptions {
  id: string
  peers: readonly Peer[]
  dataDirectory: string
  /** Written into a new data directory; a directory of another cluster (or node) is refused. */
  clusterId: string
  logger: Logger
}

export interface RaftHost {
  readonly store: LogStore
  readonly transport: TcpTransport
  readonly raft: RaftNode
  /** This node's own "host:port". */
  readonly address: string
}

/**
 * Opens the store, starts the transport and creates the Raft node (not started). If `assemble`
 * throws, everything opened here is closed again before the error is passed on.
 */
export async function startRaftHost<T>(options: RaftHostOptions, assemble: (host: RaftHost) => Promise<T>): Promise<T> {
  const self = options.peers.find((peer) => peer.id === options.id)
  if (!self) throw new PeerListError(`node ${options.id} is not in the peer list (${options.peers.map((peer) => peer.id).join(', ')})`)
  const store = await openDiskLog(options.dataDirectory, { name: options.dataDirectory, identity: { clusterId: options.clusterId, nodeId: options.id } })
  let transport: TcpTransport | null = null
  try {
    transport = await TcpTransport.start({
      self: options.id,
      listen: self.parsed,
      peers: Object.fromEntries(options.peers.map((peer) => [peer.id, peer.address])),
      logger: options.logger,
    })
    const raft = await RaftNode.create({ id: options.id, members: options.peers.map((peer) => peer.id), transport, store, logger: options.logger })
    return await assemble({ store, transport, raft, address: self.address })
  } catch (error) {
    await transport?.close()
    await store.close()
    throw error
  }
}

/** INFO's Replication and Persistence sections for a Raft replica. */
export function raftInfo(id: string, raft: RaftNode): Record<string, Record<string, string | number>> {
  const status = raft.status()
  const sizes = raft.sizes()
  return {
    Replication: {
      role: status.role,
      node: id,
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
