// Public surface of the RPC layer.
export * from './errors.js'
export * from './transport.js'
export { invoke, handler, rpcMethod, type RpcMethod } from './service.js'
export { loadProto, protoCodec, type MessageCodec } from './proto.js'
export { SimNetwork, SimServer, SimClientEnd, type SimEvent, type SimEventKind, type SimNetworkOptions } from './sim-network.js'
export { SimTransport, type SimTransportOptions } from './sim-transport.js'
export { TcpTransport, parseAddress, type TcpTransportOptions } from './tcp-transport.js'
export { type PeerAddress, formatAddress } from './tcp-peer-link.js'
