// The records the durable log keeps: entries, the hard state, snapshot metadata, and the identity
// of the node that owns the data directory.

export type { HardState, LogEntry } from '../base/entries.js'
export { EMPTY_HARD_STATE } from '../base/entries.js'

/** The installed snapshot as the store records it: what it covers, and how its data is stored. */
export interface SnapshotMeta {
  /** The last log index the snapshot covers; the log resumes at the next one. */
  readonly lastIncludedIndex: number
  /** The term of the entry at lastIncludedIndex. */
  readonly lastIncludedTerm: number
  /** Opaque bytes the state machine keeps with its snapshot. */
  readonly appMeta: Uint8Array
  /** Raft's cluster configuration at lastIncludedIndex (opaque bytes here). */
  readonly configuration: Uint8Array
  /** Size of the snapshot data, in bytes. */
  readonly sizeBytes: number
  /** Number of chunks the data is stored in (LogStoreOptions.snapshotChunkBytes each, the last one partial). */
  readonly chunkCount: number
  /** CRC-32 of the whole snapshot data. */
  readonly dataCrc: number
  /** Internal generation number: chunks of other generations are garbage. */
  readonly generation: number
}

/** Which node a data directory belongs to, so a node never starts on another node's data. */
export interface NodeIdentity {
  readonly clusterId: string
  readonly nodeId: string
}

/** The identity as the data directory records it. */
export interface StoredIdentity extends NodeIdentity {
  /** Random, made with the directory: a wiped and recreated directory is another incarnation. */
  readonly incarnation: string
  /** Set when the cluster found this node's log shorter than what it had acknowledged; the node must not run on it. */
  readonly lostState: string | null
}

/** What a node asks of its data directory when it opens it. */
export interface IdentityClaim {
  readonly nodeId: string
  /** The cluster it belongs to; required to create a new directory, checked against an existing one if given. */
  readonly clusterId?: string
}
