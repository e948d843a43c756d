// Raft's in-memory types: entry kinds, roles, the RPC messages of Figure 2 (plus pre-vote, leader
// transfer and snapshot chunks), and the options that shape timing and batching.

import type { Configuration } from './membership.js'

/** What a log entry's data holds, by the entry's `type`. */
export const EntryType = {
  /** A state-machine command proposed by a client. */
  Command: 0,
  /** Appended by a leader to commit an entry of its own term (only when a ReadIndex or a membership change needs it). */
  Noop: 1,
  /** A new cluster configuration (an encoded Configuration of membership.ts). */
  Configuration: 2,
} as const
/** One of the {@link EntryType} values. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType]

/** A node's part in its current term; a precandidate is running a pre-vote round, which changes no term. */
export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader'

/** An entry as it travels in AppendEntries: the index is implied by its position. */
export interface WireEntry {
  term: number
  type: number
  data: Uint8Array
}

export interface RequestVoteRequest {
  term: number
  candidateId: string
  lastLogIndex: number
  lastLogTerm: number
  /** A pre-vote (§9.6 of the Raft thesis): asks "would you vote?" without changing anyone's term. */
  preVote: boolean
  /** Sent by a leader-transfer target: voters ignore their leader lease. */
  transfer: boolean
}

export interface RequestVoteReply {
  term: number
  granted: boolean
}

export interface AppendEntriesRequest {
  term: number
  leaderId: string
  prevLogIndex: number
  prevLogTerm: number
  entries: WireEntry[]
  leaderCommit: number
  /** The leader's ReadIndex round when it sent this; echoed back through the reply's context. */
  readRound: number
  /** The leader found the receiver's log shorter than what it had acknowledged: it lost its state. */
  lostState: boolean
}

export interface AppendEntriesReply {
  term: number
  success: boolean
  /** On success: the last index known to match the leader's log. */
  matchIndex: number
  /** On rejection: where the leader should look next (see conflictTerm). */
  conflictIndex: number
  /** On rejection: the term of the follower's conflicting entry at prevLogIndex, or 0 if its log is too short. */
  conflictTerm: number
}

export interface InstallSnapshotRequest {
  term: number
  leaderId: string
  lastIncludedIndex: number
  lastIncludedTerm: number
  /** The state machine's snapshot metadata, sent with the first chunk. */
  appMeta: Uint8Array
  /** Byte offset of `data` within the snapshot. */
  offset: number
  data: Uint8Array
  done: boolean
  /** The configuration at lastIncludedIndex (encoded), sent with the first chunk. */
  configuration: Uint8Array
}

export interface InstallSnapshotReply {
  term: number
  /** False if the follower wants the transfer restarted (e.g. it missed a chunk). */
  accepted: boolean
}

export interface TimeoutNowRequest {
  term: number
  leaderId: string
}

export interface TimeoutNowReply {
  term: number
}

/** A follower asks the leader for a read point, to serve a linearizable read itself. */
export interface ReadIndexRequest {
  term: number
  followerId: string
  /** The latest ReadIndex round the follower was told of in this term (0 if none); the ask acknowledges it. */
  readRoundHeard: number
}

export interface ReadIndexReply {
  term: number
  /** The leader confirmed it still leads, by a round a quorum acknowledged after the ask arrived. */
  confirmed: boolean
  /** The leader's commit index when that round began; the follower reads once it has applied it. */
  readIndex: number
  /** The term of the entry at readIndex (0 if unknown): a follower holding it may commit up to it. */
  readTerm: number
  /** The leader's latest ReadIndex round when it answered; the follower's next ask acknowledges it. */
  readRound: number
}

/** Timing and batching. Times are in ticks; the node driver turns ticks into milliseconds. */
export interface RaftTimingOptions {
  /** A follower with no word from a leader for [electionTicks, 2 × electionTicks) campaigns. */
  electionTicks: number
  /** A leader sends heartbeats every heartbeatTicks. */
  heartbeatTicks: number
}

export interface RaftCoreOptions extends RaftTimingOptions {
  id: string
  /** Encodes Configuration entries a leader appends and decodes those in the log (the core does no I/O of its own). */
  configurationCodec: { encode(configuration: Configuration): Uint8Array; decode(bytes: Uint8Array): Configuration }
  /** A learner marked promoteWhenCaughtUp is promoted once its log is within this many entries of the leader's. */
  promoteLagEntries: number
  /** Campaign only after a pre-vote round succeeds, so a partitioned node cannot inflate terms. */
  preVote: boolean
  /** A leader steps down if it has not heard from a quorum within an election timeout. */
  checkQuorum: boolean
  /**
   * Ticks a leader may serve reads without a heartbeat round after a round it began was
   * acknowledged by a quorum (a lease), or 0 for never. Needs checkQuorum (followers then refuse
   * votes for an election timeout after hearing from the leader); safe while it is shorter than
   * electionTicks by more than the clocks' drift over that time.
   */
  leaseTicks: number
  /** Bounds on one AppendEntries message. */
  maxAppendEntries: number
  maxAppendBytes: number
  /** AppendEntries sent to a follower and not yet answered, while pipelining. */
  maxInflightAppends: number
  /** The core's only source of randomness (election timeouts); seeded in simulation. */
  random: () => number
}

/**
 * Where a proposal went. On the leader, the command was appended at `index` in `term`; it took
 * effect only if the entry committed$ emits at that index has that term (a new leader may replace
 * it). Elsewhere `isLeader` is false, nothing was appended and `index` is -1: send it to the leader.
 */
export interface ProposeResult {
  index: number
  term: number
  isLeader: boolean
}

/** A node's Raft state at one moment, for monitoring and for finding the leader. */
export interface RaftStatus {
  id: string
  term: number
  role: Role
  /** The leader of the current term as this node knows it; null if it knows none. */
  leaderId: string | null
  /** The highest index known to be committed. */
  commitIndex: number
  /** The highest index handed to the state machine (emitted on committed$). */
  appliedIndex: number
  /** The index of the last entry in this node's log, committed or not. */
  lastIndex: number
  /** The last index the snapshot covers; 0 if there is none. */
  snapshotIndex: number
}
