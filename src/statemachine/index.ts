// Public surface of the state-machine runtime: reducers folded over the committed log, sessions,
// snapshots, and the generic service and clerk for any machine.
export type { Codec, StateMachine } from './types.js'
export { ReplicatedStateMachine, ProposalLostError, type ClientSession, type ReplicatedStateMachineOptions } from './runtime.js'
export { foldMessage, initialFold, encodeCheckpoint, decodeCheckpoint, CheckpointFormatError, type Folded, type Outcome, type OutcomeKind } from './fold.js'
export { SessionTable, DEFAULT_SESSION_LIMITS, type SessionLimits } from './sessions.js'
