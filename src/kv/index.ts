// Public surface of the KV application: the key/value machine (a reducer like any embedder's), its
// service and exactly-once clerk, and the single-server flavour of MIT Lab 2.
export { kvMachine, type KvCommand, type KvResult, type KvState, type KvOp, type KvMachineOptions } from './kv.js'
export { KvService, type KvReplica, type KvServiceOptions } from './kv-service.js'
export { KvLocalServer } from './kv-local-server.js'
export { KvClerk, KvDeadlineError, KvValueTooLargeError, type KvClerkOptions } from './kv-clerk.js'
