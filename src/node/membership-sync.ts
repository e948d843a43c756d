// Keeps a node's surroundings in step with its Raft configuration: the transport's peers (who may
// connect as a member, and where each member is reached) follow the latest configuration; a
// committed removal makes the node forget the removed member's incarnation (so it may come back
// as a new one, the remedy for lost state); and a node learns it was removed, either by seeing the
// removal commit or — since the leader stops replicating to it once the removal is in its log,
// so it may never see that commit — when a majority of the other voters it knows refuse it as no
// member. A node that may have been removed (it has no leader, or its log says so) asks them.

import type { LogStore } from '../log/log-store.js'
import { allMembers, memberOf } from '../raft/membership.js'
import type { RaftNode } from '../raft/node.js'
import { quorumSize } from '../raft/quorum.js'
import { membershipMethod, membershipRequest } from '../raft/membership-service.js'
import { notAMember } from '../rpc/handshake.js'
import { invoke } from '../rpc/service.js'
import type { TcpTransport } from '../rpc/tcp-transport.js'
import type { Logger } from '../base/logger.js'

/** How often a node that may have been removed asks the other voters. */
const REMOVAL_PROBE_MS = 2000

export interface MembershipFollower {
  /** Resolves when this node's own removal from the cluster is committed. */
  readonly removed: Promise<void>
  stop(): void
}

/** Peer refusals as the transport reports them (TcpTransportOptions.onPeerRefusal). */
export interface PeerRefusals {
  subscribe(listener: (peer: string, reason: string) => void): void
}

export function followMembership(raft: RaftNode, transport: TcpTransport, store: LogStore, refusals: PeerRefusals, logger: Logger): MembershipFollower {
  let wasMember = false
  let reportRemoved: () => void = () => {}
  const removed = new Promise<void>((resolve) => (reportRemoved = resolve))
  const refusedBy = new Set<string>()
  const otherVoters = (): string[] =>
    raft
      .members()
      .configuration.voters.map((voter) => voter.id)
      .filter((id) => id !== raft.id)
  let declared = false
  const declareRemoved = (how: string): void => {
    if (declared) return
    declared = true
    logger.warn('this node was removed from the cluster', { node: raft.id, how })
    reportRemoved()
  }
  refusals.subscribe((peer, reason) => {
    if (!wasMember || !reason.includes(notAMember(raft.id, ''))) return
    refusedBy.add(peer)
    const others = otherVoters()
    const refusing = others.filter((id) => refusedBy.has(id)).length
    if (others.length > 0 && refusing >= quorumSize(others.length)) declareRemoved(`refused as no member by ${[...refusedBy].join(', ')}`)
  })
  const subscription = raft.membership$.subscribe((state) => {
    const members = allMembers(state.configuration)
    // A node that has not learned a configuration yet (one joining) keeps the peers it was given.
    if (state.configuration.voters.length === 0) return
    transport.syncPeers(
      Object.fromEntries(members.filter((member) => member.id !== raft.id && member.address !== '').map((member) => [member.id, member.address])),
    )
    if (!state.committed) return
    for (const peer of [...store.knownPeers.keys()]) {
      if (memberOf(state.configuration, peer)) continue
      store.forgetKnownPeer(peer).catch((error: unknown) => logger.warn('cannot forget a removed peer', { peer, reason: String(error) }))
    }
    if (memberOf(state.configuration, raft.id)) {
      wasMember = true
      refusedBy.clear()
    } else if (wasMember) {
      declareRemoved(`its removal committed at index ${state.index}`)
    }
  })
  // A node that may have been removed asks the other voters: their refusals (above) tell it.
  const probe = setInterval(() => {
    const status = raft.status()
    if (!wasMember || (memberOf(raft.members().configuration, raft.id) && status.leaderId !== null)) return
    for (const peer of otherVoters()) invoke(transport, peer, membershipMethod, membershipRequest({ action: 'list' })).catch(() => undefined)
  }, REMOVAL_PROBE_MS)
  probe.unref()
  return {
    removed,
    stop: () => {
      clearInterval(probe)
      subscription.unsubscribe()
    },
  }
}
