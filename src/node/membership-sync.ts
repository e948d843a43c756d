// Keeps a node's surroundings in step with its Raft configuration: the transport's peers (who may
// connect as a member, and where each member is reached) follow the latest configuration; a
// committed removal makes the node forget the removed member's incarnation (so it may come back
// as a new one, the remedy for lost state); and a node that sees its own removal committed says so.

import type { LogStore } from '../log/log-store.js'
import { allMembers, memberOf } from '../raft/membership.js'
import type { RaftNode } from '../raft/node.js'
import type { TcpTransport } from '../rpc/tcp-transport.js'
import type { Logger } from '../util/logger.js'

export interface MembershipFollower {
  /** Resolves when this node's own removal from the cluster is committed. */
  readonly removed: Promise<void>
  stop(): void
}

export function followMembership(raft: RaftNode, transport: TcpTransport, store: LogStore, logger: Logger): MembershipFollower {
  let wasMember = false
  let reportRemoved: () => void = () => {}
  const removed = new Promise<void>((resolve) => (reportRemoved = resolve))
  const subscription = raft.membership$.subscribe((state) => {
    const members = allMembers(state.configuration)
    // A node that has not learned a configuration yet (one joining) keeps the peers it was given.
    if (state.configuration.voters.length === 0) return
    transport.syncPeers(Object.fromEntries(members.filter((member) => member.id !== raft.id && member.address !== '').map((member) => [member.id, member.address])))
    if (!state.committed) return
    for (const peer of [...store.knownPeers.keys()]) {
      if (memberOf(state.configuration, peer)) continue
      store.forgetKnownPeer(peer).catch((error: unknown) => logger.warn('cannot forget a removed peer', { peer, reason: String(error) }))
    }
    if (memberOf(state.configuration, raft.id)) {
      wasMember = true
    } else if (wasMember) {
      logger.warn('this node was removed from the cluster', { node: raft.id, configuration_index: state.index })
      reportRemoved()
    }
  })
  return { removed, stop: () => subscription.unsubscribe() }
}
