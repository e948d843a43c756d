// Public surface of the assembled KV replica.
export { KvNode, type KvNodeOptions } from './kv-node.js'
export { parsePeers, formatPeers, PeerListError, type Peer } from './peers.js'
