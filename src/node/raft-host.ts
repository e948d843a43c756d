// What every lograft replica process starts from: its log in classic-level (refusing another
// node's or cluster's data directory), a TcpTransport listening on its own address (plain TCP or
// mutual TLS, with the handshake that admits only the cluster's members as peers and refuses one
// that lost its state), and a Raft node over the two. The shard controller and the shard group
// nodes are built on it.

import { createHash } from 'node:crypto'
import { openDiskLog, readDiskIdentity } from '../log/backends.js'
import { IdentityMismatchError } from '../log/errors.js'
import type { LogStore } from '../log/log-store.js'
import { type Configuration, allMembers, memberOf } from '../raft/membership.js'
import { serveMembership } from '../raft/membership-service.js'
import { RaftNode } from '../raft/node.js'
import { parseAddress } from '../rpc/address.js'
import { DEFAULT_MAX_FRAME_BYTES, TcpTransport } from '../rpc/tcp-transport.js'
import { assert } from '../base/assert.js'
import type { Logger } from '../base/logger.js'
import { type Joined, joinCluster } from './join.js'
import { logRaftEvents } from './event-log.js'
import { followMembership } from './membership-sync.js'
import { incarnationCheck } from './peer-incarnations.js'
import { type Peer, PeerListError, formatPeers } from './peers.js'
import type { ReplicaOptions } from './replica-options.js'

export interface RaftHostOptions extends Omit<ReplicaOptions, 'maxRaftStateBytes' | 'logger'> {
  /**
   * For a cluster that is one part of a larger deployment (the shard controller, a shard group):
   * `clusterId` names the deployment and the data directory records `clusterId:role`, so a
   * directory is never opened as another part's, nor as another deployment's.
   */
  role?: string
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
  /** Resolves when this node's removal from the cluster commits. */
  readonly removed: Promise<void>
  /** Stops following the membership (part of stopping the node). */
  readonly stopFollowing: () => void
}

/** The default largest value: values travel in single frames and log entries, so they are kept small (as etcd's are). */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024

/** Frames must hold a value plus its key and envelope: a few MiB, more if values may be larger. */
export function maxFrameBytesFor(maxValueBytes: number): number {
  return Math.max(DEFAULT_MAX_FRAME_BYTES, maxValueBytes + 1024 * 1024)
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

export class HostConfigError extends Error {
  readonly code = 'ERR_HOST_CONFIG'
}

/**
 * Opens the store (joining the cluster first if the directory is new and `join` is given), starts
 * the transport and creates the Raft node (not started), serving Membership. If `assemble`
 * throws, everything opened here is closed again before the error is passed on.
 */
export async function startRaftHost<T>(options: RaftHostOptions, assemble: (host: RaftHost) => Promise<T>): Promise<T> {
  const founders = options.peers ?? []
  if (founders.length > 0 && !founders.some((peer) => peer.id === options.id)) {
    throw new PeerListError(`node ${options.id} is not in the peer list (${founders.map((peer) => peer.id).join(', ')})`)
  }
  const existing = await readDiskIdentity(options.dataDirectory)
  let joined: Joined | null = null
  if (!existing && options.join !== undefined) {
    if (options.listen === undefined) throw new HostConfigError('--join needs --listen: the address the cluster will reach this node at')
    joined = await joinCluster({
      id: options.id,
      address: options.listen,
      via: options.join,
      ...(options.clusterId === undefined
        ? {}
        : { expectedClusterId: options.role === undefined ? options.clusterId : `${options.clusterId}:${options.role}` }),
      ...(options.tls ? { tls: options.tls } : {}),
      logger: options.logger,
    })
    options.logger.info('joined the cluster as a learner', { node: options.id, cluster: joined.clusterId, via: options.join })
  }
  const claimed =
    joined?.clusterId ?? (options.clusterId === undefined || options.role === undefined ? options.clusterId : `${options.clusterId}:${options.role}`)
  const identity = { nodeId: options.id, ...(claimed === undefined ? {} : { clusterId: claimed }) }
  const store = await openDiskLog(options.dataDirectory, { name: options.dataDirectory, identity })
  let transport: TcpTransport | null = null
  try {
    const stored = store.identity
    assert(stored !== null, 'a store opened with an identity records one')
    if (options.role !== undefined && !stored.clusterId.endsWith(`:${options.role}`)) {
      throw new IdentityMismatchError(
        options.dataDirectory,
        `node ${options.id} of a shard deployment's ${options.role}`,
        `node ${stored.nodeId} of cluster ${stored.clusterId}`,
      )
    }
    // A directory that exists takes its members' addresses from its own configuration (followMembership
    // hands them to the transport), never from `peers`: those found a cluster, they do not re-address one.
    const initialPeers = joined ? allMembers(joined.configuration) : existing ? [] : founders
    const refusalListeners: Array<(peer: string, reason: string) => void> = []
    transport = await TcpTransport.start({
      self: options.id,
      peers: Object.fromEntries(initialPeers.filter((peer) => peer.id !== options.id).map((peer) => [peer.id, peer.address])),
      cluster: {
        clusterId: stored.clusterId,
        incarnation: stored.incarnation,
        // The founding configuration's digest: founders started with different member lists refuse each other.
        get membersDigest() {
          const founding = store.bootstrapConfiguration
          return founding ? createHash('sha256').update(founding).digest('hex').slice(0, 16) : ''
        },
      },
      checkIncarnation: incarnationCheck(store, options.logger),
      onPeerRefusal: (peer, reason) => {
        for (const listener of refusalListeners) listener(peer, reason)
      },
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes }),
      logger: options.logger,
    })
    const raft = await RaftNode.create({
      id: options.id,
      ...(founders.length > 0
        ? { members: founders.map((peer) => peer.id), memberAddresses: Object.fromEntries(founders.map((peer) => [peer.id, peer.address])) }
        : {}),
      transport,
      store,
      logger: options.logger,
      leaseReads: options.leaseReads === true,
    })
    if (existing && founders.length > 0) warnIfPeersIgnored(founders, raft.members().configuration, options.logger)
    const address = options.listen ?? memberOf(raft.members().configuration, options.id)?.address ?? founders.find((peer) => peer.id === options.id)?.address
    if (!address) throw new HostConfigError(`node ${options.id} has no address of its own in its configuration: give --listen`)
    const parsed = parseAddress(address)
    if (!options.tls && parsed.path === undefined && !LOOPBACK.test(parsed.host)) {
      options.logger.warn(
        'listening without TLS on a non-loopback address: anyone who can reach it can talk to this node; use --tls-cert, --tls-key and --tls-ca',
        {
          address,
        },
      )
    }
    await transport.listen(parsed)
    const follower = followMembership(raft, transport, store, { subscribe: (listener) => void refusalListeners.push(listener) }, options.logger)
    serveMembership({ raft, transport, clusterId: stored.clusterId, logger: options.logger })
    const events = logRaftEvents(raft, options.logger)
    const stopFollowing = (): void => {
      follower.stop()
      events.unsubscribe()
    }
    return await assemble({ store, transport, raft, address, clusterId: stored.clusterId, removed: follower.removed, stopFollowing })
  } catch (error) {
    await transport?.close()
    await store.close()
    throw error
  }
}

/**
 * A restarted node given founders' `peers` that its directory's configuration does not match (as
 * etcd ignores --initial-cluster once a member has its data): say so, since the node follows its
 * configuration and an operator who expected otherwise would see it talk to other addresses.
 */
function warnIfPeersIgnored(founders: readonly Peer[], configuration: Configuration, logger: Logger): void {
  const members = allMembers(configuration)
  const same = founders.length === members.length && founders.every((peer) => memberOf(configuration, peer.id)?.address === peer.address)
  if (same) return
  logger.warn('this data directory already belongs to a cluster: its members come from its log, and the peers given are ignored', {
    given: formatPeers(founders),
    members: formatPeers(members),
  })
}

/** INFO's Replication and Persistence sections for a Raft replica. */
export function raftInfo(id: string, clusterId: string, raft: RaftNode): Record<string, Record<string, string | number>> {
  const status = raft.status()
  const sizes = raft.sizes()
  const membership = raft.members()
  const matches = new Map(raft.replicationProgress().map((follower) => [follower.id, follower.matchIndex]))
  const members: Record<string, string> = {}
  for (const [i, member] of allMembers(membership.configuration).entries()) {
    const match = member.id === id && status.role === 'leader' ? status.lastIndex : matches.get(member.id)
    const role = membership.configuration.voters.includes(member) ? 'voter' : 'learner'
    // Like Redis's slaveN lines; match and lag are known on the leader only.
    members[`member${i}`] = [
      `id=${member.id}`,
      `address=${member.address}`,
      `role=${role}`,
      ...(match === undefined ? [] : [`match=${match}`, `lag=${status.lastIndex - match}`]),
    ].join(',')
  }
  return {
    Membership: { configuration_index: membership.index, configuration_committed: membership.committed ? 1 : 0, ...members },
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
