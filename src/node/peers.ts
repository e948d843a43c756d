// Parsing of a cluster's member list, "1=127.0.0.1:7101,2=127.0.0.1:7102,...", with errors that
// say exactly what is wrong.

import { type PeerAddress, parseAddress } from '../rpc/address.js'

/** Thrown by {@link parsePeers} for a malformed list, saying which item is wrong and how. */
export class PeerListError extends Error {
  readonly code = 'ERR_PEER_LIST'
}

/** A cluster member as a peer list names it. */
export interface Peer {
  id: string
  /** "host:port" as written. */
  address: string
  parsed: PeerAddress
}

/**
 * Parses a member list, "1=127.0.0.1:7101,2=127.0.0.1:7102,...". Throws PeerListError if it is
 * empty or malformed, lists an id or address twice, or gives port 0.
 */
export function parsePeers(text: string): Peer[] {
  if (text.trim() === '') throw new PeerListError('the peer list is empty; expected id=host:port,id=host:port,...')
  const peers: Peer[] = []
  for (const item of text.split(',')) {
    const match = /^\s*([A-Za-z0-9_.-]+)=(.+?)\s*$/.exec(item)
    if (!match) throw new PeerListError(`malformed peer "${item}"; expected id=host:port`)
    const [, id, address] = match as unknown as [string, string, string]
    let parsed: PeerAddress
    try {
      parsed = parseAddress(address)
    } catch {
      throw new PeerListError(`peer ${id}: "${address}" is not a host:port address`)
    }
    if (parsed.port === 0) throw new PeerListError(`peer ${id}: port 0 is not a usable address`)
    if (peers.some((peer) => peer.id === id)) throw new PeerListError(`peer ${id} is listed twice`)
    if (peers.some((peer) => peer.address === address)) throw new PeerListError(`address ${address} is listed twice`)
    peers.push({ id, address, parsed })
  }
  return peers
}

/** Writes `peers` as a member list that {@link parsePeers} reads back. */
export function formatPeers(peers: readonly Pick<Peer, 'id' | 'address'>[]): string {
  return peers.map((peer) => `${peer.id}=${peer.address}`).join(',')
}
