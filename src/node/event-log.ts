// The events an operator reads in a node's log, one line each, from the Raft node's streams: a new
// leader (or none), the configuration as it changes and commits, and snapshots stored.

import type { Subscription } from 'rxjs'
import type { Logger } from '../base/logger.js'
import type { RaftNode } from '../raft/node.js'

/** Logs `raft`'s leader changes, configuration changes and snapshots at info; unsubscribe to stop. */
export function logRaftEvents(raft: RaftNode, logger: Logger): Subscription {
  const subscription = raft.leader$.subscribe(({ term, leaderId }) => {
    if (leaderId !== null) logger.info('leader elected', { node: raft.id, term, leader: leaderId })
  })
  subscription.add(
    raft.membership$.subscribe(({ configuration, index, committed }) => {
      if (index === 0) return // The founding members, known from the start.
      logger.info(committed ? 'configuration committed' : 'configuration appended', {
        node: raft.id,
        index,
        voters: configuration.voters.map((member) => member.id).join(','),
        learners: configuration.learners.map((member) => member.id).join(',') || undefined,
      })
    }),
  )
  subscription.add(
    raft.timings$.subscribe((timing) => {
      if (timing.kind === 'snapshot') logger.info('snapshot stored', { node: raft.id, index: timing.index, bytes: timing.bytes, ms: Math.round(timing.ms) })
      if (timing.kind === 'snapshotSent') {
        const fields = { node: raft.id, follower: timing.to, index: timing.index, ms: Math.round(timing.ms) }
        if (timing.accepted) logger.info('snapshot sent', fields)
        else logger.warn('snapshot send failed', fields)
      }
    }),
  )
  return subscription
}
