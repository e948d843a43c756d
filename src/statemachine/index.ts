// Public surface of the state-machine runtime: reducers folded over the committed log, sessions,
// snapshots, and the generic service and clerk for any machine.
export type { ApplyContext, Codec, StateEncoding, StateMachine } from './types.js'
export { jsonCodec } from './codecs.js'
export { serveMachine, type MachineServiceOptions, type LocalMachine, type MachineCall, type MachineAnswer } from './machine-service.js'
export { MachineClerk, ClerkDeadlineError, CommandRefusedError, type MachineClerkOptions } from './machine-clerk.js'
export { loadMachine, MachineLoadError } from './machine-loader.js'
export { ReplicatedStateMachine, ProposalLostError, type ClientSession, type ReplicatedStateMachineOptions } from './runtime.js'
export { foldMessage, initialFold, encodeCheckpoint, decodeCheckpoint, CheckpointFormatError, type Folded, type Outcome, type OutcomeKind } from './fold.js'
export { SessionTable, DEFAULT_SESSION_LIMITS, type SessionLimits } from './sessions.js'
export { replayLog, ReplayRangeError, type ReplayOptions, type Replayed } from './replay.js'
