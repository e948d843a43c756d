// The replica-group machine's vocabulary — its state, commands, results and migration chunks —
// apart from the machine, so that its codec and snapshot encoding can name them without importing it.

import type { KvCommand, KvResult } from '../kv/types.js'
import type { KvEntry } from '../kv/kv-state-encoding.js'
import type { ShardConfig } from './config.js'
import type { ShardState } from './shard-state.js'

export interface GroupState {
  gid: number
  config: ShardConfig
  previous: ShardConfig
  /** The shards this group holds in any status; a shard not here is not held at all. */
  shards: Map<number, ShardState>
}

export interface ClientOperation {
  clientId: number
  sequence: number
  timeMs: number
  command: KvCommand
}

export type GroupCommand =
  | ({ kind: 'op' } & ClientOperation)
  | { kind: 'config'; config: ShardConfig }
  | { kind: 'chunk'; configNum: number; shard: number; transferId: string; index: number; payload: ChunkPayload }
  | { kind: 'delete'; configNum: number; shard: number }
  | { kind: 'gc-done'; configNum: number; shard: number }

export type GroupError = 'OK' | 'ErrWrongGroup' | 'ErrNotReady' | 'ErrStale'

export interface GroupResult {
  err: GroupError
  /** For client operations. */
  kv: KvResult | null
  /** The shard the command touched, and how (for the migration source's record of operations). */
  shard: number
  event: 'none' | 'op' | 'complete'
}

/** One piece of a shard on its way to a new owner. */
export type ChunkPayload =
  | { kind: 'data'; entries: Array<[string, string]> }
  /**
   * Keys with their types and deadlines (what 'data' carried before keys had either); decoding
   * also keeps the entries as they arrived encoded (`encoded`), for the snapshot of a shard being pulled.
   */
  | { kind: 'entries'; entries: KvEntry[]; encoded?: Uint8Array }
  /** The shard's log time, so a rebuilt shard expires its keys where the source would. */
  | { kind: 'clock'; clockMs: number }
  | { kind: 'sessions'; encoded: Uint8Array }
  /** A segment of the source's log: the operations on the shard since its snapshot, in order. */
  | { kind: 'ops'; operations: ClientOperation[] }
  /** The last chunk of a migration recorded before issue 16: the sorted digest (sortedShardDigest) the rebuilt shard must have. */
  | { kind: 'end'; digest: Uint8Array }
  /** The last chunk: the digest (ShardDigest, in any key order) the rebuilt shard must have. */
  | { kind: 'seal'; digest: Uint8Array }
