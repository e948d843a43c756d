// Public surface of the assembled replicas: a node of your own machine, the KV node, and the
// sharded KV's controller and group nodes.
export { MachineNode, type MachineNodeOptions } from './machine-node.js'
export { KvNode, type KvNodeOptions } from './kv-node.js'
export { parsePeers, formatPeers, PeerListError, type Peer } from './peers.js'
export { ShardControllerNode, type ShardControllerNodeOptions } from './shard-controller-node.js'
export { ShardGroupNode, type ShardGroupNodeOptions, DEPLOYMENT_KEY_TO_SHARD } from './shard-group-node.js'
export { ShardForwardingBackend, type ShardForwardingBackendOptions } from './shard-kv-backend.js'
