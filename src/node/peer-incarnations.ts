// Lost-state detection at the door: each node remembers (in its store) the data-directory
// incarnation every peer showed when they first met, and refuses a peer that comes back with
// another one. A wiped directory gets a new random incarnation when it is recreated, so a member
// that lost its log and its votes cannot rejoin with them forgotten; an operator must remove it and
// add it back.

import type { LogStore } from '../log/log-store.js'
import type { IncarnationCheck } from '../rpc/handshake.js'
import type { Logger } from '../base/logger.js'

export function incarnationCheck(store: LogStore, logger: Logger): IncarnationCheck {
  const reported = new Set<string>()
  return (nodeId, incarnation) => {
    if (incarnation === '') return null // A transport without a data directory (a library user's) has none to compare.
    const known = store.knownPeers.get(nodeId)
    if (known === undefined) {
      store.recordKnownPeer(nodeId, incarnation).catch((error: unknown) => {
        logger.warn('cannot record a peer incarnation', { peer: nodeId, reason: String(error) })
      })
      return null
    }
    if (known === incarnation) return null
    const reason =
      `node ${nodeId} came back with another data directory (incarnation ${incarnation}, known as ${known}): ` +
      `it lost its state and must not rejoin with it; remove it from the cluster and add it back`
    if (!reported.has(`${nodeId}/${incarnation}`)) {
      reported.add(`${nodeId}/${incarnation}`)
      logger.error('refused a peer that lost its state', { peer: nodeId, incarnation, known, remedy: `remove ${nodeId} from the cluster and add it back` })
    }
    return reason
  }
}
