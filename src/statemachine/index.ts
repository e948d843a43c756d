// Public surface of the state-machine runtime and the KV services.
export type { Codec, StateMachine } from './types.js'
export { ReplicatedStateMachine, ProposalLostError, type ClientSession, type ReplicatedStateMachineOptions } from './runtime.js'
export { foldMessage, initialFold, encodeCheckpoint, decodeCheckpoint, CheckpointFormatError, type Folded, type Outcome, type OutcomeKind } from './fold.js'
export { SessionTable, DEFAULT_SESSION_LIMITS, type SessionLimits } from './sessions.js'
export { kvMachine, type KvCommand, type KvResult, type KvState, type KvOp, type KvMachineOptions } from './kv.js'
export { KvService, type KvReplica, type KvServiceOptions } from './kv-service.js'
export { KvLocalServer } from './kv-local-server.js'
export { KvClerk, KvDeadlineError, KvValueTooLargeError, type KvClerkOptions } from './kv-clerk.js'
