// How a server command says which cluster it is part of: --peers to found one (the founding
// members), or --listen and --join to join one through any member; a restart needs neither.

import type { Peer } from '../node/peers.js'
import { UsageError, checkAddress } from './usage.js'

export const MEMBERSHIP_FLAG_OPTIONS = {
  listen: { type: 'string' },
  join: { type: 'string' },
} as const

export interface MembershipFlags {
  peers?: Peer[]
  listen?: string
  join?: string
}

/** The peers, listen and join options of a server, checked: --join needs --listen, and excludes --peers. */
export function membershipFromFlags(
  values: { peers?: string | undefined; listen?: string | undefined; join?: string | undefined },
  parsePeers: (text: string) => Peer[],
): MembershipFlags {
  if (values.join !== undefined && values.listen === undefined)
    throw new UsageError('--join needs --listen (the address the cluster will reach this server at)')
  if (values.join !== undefined && values.peers !== undefined) throw new UsageError('give --peers to found a cluster or --join to join one, not both')
  return {
    ...(values.peers === undefined ? {} : { peers: parsePeers(values.peers) }),
    ...(values.listen === undefined ? {} : { listen: checkAddress('listen', values.listen) }),
    ...(values.join === undefined ? {} : { join: checkAddress('join', values.join) }),
  }
}
