// Public surface of Raft.
export { RaftNode, type RaftNodeOptions, type AppliedMessage } from './node.js'
export { RaftCore, type Outgoing, type ApplyItem, type LostFollower, type PersistWork, type RecoveredRaftState } from './core.js'
export { MAX_INDEX, MAX_TERM, MAX_TERM_JUMP } from './limits.js'
export * from './errors.js'
export { EntryType, type ProposeResult, type RaftStatus, type Role } from './types.js'
export type { FollowerProgress, LeaderChange, RaftTiming, RpcFailure } from './events.js'
