// One shard as a replica group holds it: its key/value data, its own client sessions (so
// exactly-once survives the shard moving to another group), and where it is in its life here.

import { createHash } from 'node:crypto'
import { BinaryReader, BinaryWriter } from '../base/bytes.js'
import { KvState, type KvResult, type KvValue, digestValue, kvResultCodec, kvStateCodec } from '../kv/kv.js'
import { type SessionLimits, SessionTable } from '../statemachine/sessions.js'
import type { ShardDigest } from './shard-digest.js'

export type ShardStatus =
  /** Owned in the current configuration and complete: requests are served. */
  | 'serving'
  /** Owned in the current configuration, but its data is still arriving from the previous owner. */
  | 'pulling'
  /** Owned in the previous configuration only: frozen, kept until the new owner confirms it has it. */
  | 'offering'

/**
 * The entries a transfer has received, exactly as they arrived encoded, while the shard holds
 * exactly those: a snapshot copies them instead of encoding every key again.
 */
export interface ArrivedEntries {
  readonly pieces: Uint8Array[]
  count: number
}

export interface IncomingTransfer {
  /** Identifies one attempt by one source replica; chunks of another attempt are ignored. */
  readonly id: string
  nextChunk: number
  /** Null once the shard holds anything else (an overwritten key, an operation), and after a restore. */
  arrived: ArrivedEntries | null
  /**
   * The digest of the keys arrived so far, kept up to date chunk by chunk; null when it is not
   * known (restored from a snapshot mid-transfer: the closing chunk then sums the keys it has).
   */
  digest: ShardDigest | null
}

export interface ShardState {
  status: ShardStatus
  data: KvState
  sessions: SessionTable<KvResult>
  /** Serving, but the previous owner has not yet confirmed it deleted its copy. */
  gcPending: boolean
  transfer: IncomingTransfer | null
}

export function emptyShard(status: ShardStatus, limits: SessionLimits): ShardState {
  return { status, data: new KvState(), sessions: new SessionTable(limits), gcPending: false, transfer: null }
}

const STATUS_CODES: readonly ShardStatus[] = ['serving', 'pulling', 'offering']

/**
 * A fingerprint of the shard's data (values, types, deadlines, log time) and sessions over its keys
 * in sorted order: what the 'end' chunk of a migration recorded before issue 16 (ShardDigest, which
 * needs no sort, replaced it), still checked when such a log replays.
 */
export function sortedShardDigest(shard: Pick<ShardState, 'data' | 'sessions'>): Uint8Array {
  const hash = createHash('sha256').update(`clock:${shard.data.clockMs};`)
  const { entries, deadlines } = shard.data
  for (const key of [...entries.keys()].sort()) {
    digestValue(hash.update(`${key.length}:`, 'latin1').update(key, 'latin1'), entries.get(key) as KvValue, deadlines.get(key))
  }
  hash.update(shard.sessions.encode(kvResultCodec))
  return hash.digest()
}

/**
 * Everything of an encoded shard before its data: status, transfer and sessions. The data follows
 * in the KV state's encoding, to the end (see encodeGroupState).
 */
export function encodeShardHead(shard: ShardState): Uint8Array {
  return new BinaryWriter()
    .uint8(STATUS_CODES.indexOf(shard.status))
    .uint8(shard.gcPending ? 1 : 0)
    .string(shard.transfer?.id ?? '')
    .uint32(shard.transfer?.nextChunk ?? 0)
    .bytes(shard.sessions.encode(kvResultCodec))
    .finish()
}

/** An encoded shard's head (encodeShardHead), and its data still encoded. */
export function decodeShardHead(bytes: Uint8Array, limits: SessionLimits): { head: Omit<ShardState, 'data'>; data: Uint8Array } {
  const reader = new BinaryReader(bytes)
  const status = STATUS_CODES[reader.uint8()] as ShardStatus
  const gcPending = reader.uint8() === 1
  const transferId = reader.string()
  const nextChunk = reader.uint32()
  const sessions = SessionTable.decode(reader.bytes(), kvResultCodec, limits)
  return {
    head: { status, sessions, gcPending, transfer: transferId ? { id: transferId, nextChunk, digest: null, arrived: null } : null },
    data: reader.rest(),
  }
}

export function decodeShard(bytes: Uint8Array, limits: SessionLimits): ShardState {
  const { head, data } = decodeShardHead(bytes, limits)
  return { ...head, data: kvStateCodec.decode(data) }
}
