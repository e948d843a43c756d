// Key layout in the underlying LevelDB. Entry keys are a prefix byte plus the index as 8 big-endian
// bytes, so LevelDB's byte order is index order.

import { readUint64, writeUint32, writeUint64 } from '../base/bytes.js'

const HARD_STATE = 0x01
const ENTRY = 0x02
const SNAPSHOT_META = 0x03
const SNAPSHOT_CHUNK = 0x04
const IDENTITY = 0x05
const KNOWN_PEER = 0x06
const BOOTSTRAP_CONFIGURATION = 0x07

export const hardStateKey = Uint8Array.of(HARD_STATE)
export const snapshotMetaKey = Uint8Array.of(SNAPSHOT_META)
export const identityKey = Uint8Array.of(IDENTITY)
export const bootstrapConfigurationKey = Uint8Array.of(BOOTSTRAP_CONFIGURATION)

/** A peer's incarnation, keyed by the peer's id (UTF-8). */
export function knownPeerKey(peerId: string): Uint8Array {
  return Buffer.concat([Uint8Array.of(KNOWN_PEER), Buffer.from(peerId, 'utf8')])
}

export function peerIdOfKnownPeerKey(key: Uint8Array): string {
  return Buffer.from(key.subarray(1)).toString('utf8')
}

/** Bounds that cover every known-peer key. */
export const knownPeerKeyRange = { gte: Uint8Array.of(KNOWN_PEER), lt: Uint8Array.of(KNOWN_PEER + 1) }

export const ENTRY_KEY_BYTES = 9

export function entryKey(index: number): Uint8Array {
  const key = new Uint8Array(ENTRY_KEY_BYTES)
  writeEntryKey(key, 0, index)
  return key
}

/** Writes the key of the entry at `index` into `target` at `offset` (ENTRY_KEY_BYTES bytes). */
export function writeEntryKey(target: Uint8Array, offset: number, index: number): void {
  target[offset] = ENTRY
  writeUint64(target, offset + 1, index)
}

export function indexOfEntryKey(key: Uint8Array): number {
  return readUint64(key, 1)
}

/** Bounds that cover every entry key. */
export const entryKeyRange = { gte: entryKey(0), lt: Uint8Array.of(ENTRY + 1) }

export function snapshotChunkKey(generation: number, chunkNumber: number): Uint8Array {
  const key = new Uint8Array(13)
  key[0] = SNAPSHOT_CHUNK
  writeUint64(key, 1, generation)
  writeUint32(key, 9, chunkNumber)
  return key
}

export function generationOfChunkKey(key: Uint8Array): number {
  return readUint64(key, 1)
}

/** Bounds that cover every snapshot chunk key. */
export const snapshotChunkKeyRange = { gte: Uint8Array.of(SNAPSHOT_CHUNK), lt: Uint8Array.of(SNAPSHOT_CHUNK + 1) }

export function describeKey(key: Uint8Array): string {
  switch (key[0]) {
    case HARD_STATE:
      return 'hard state'
    case ENTRY:
      return `entry at index ${indexOfEntryKey(key)}`
    case SNAPSHOT_META:
      return 'snapshot metadata'
    case SNAPSHOT_CHUNK:
      return `snapshot chunk ${new DataView(key.buffer, key.byteOffset).getUint32(9)} of generation ${generationOfChunkKey(key)}`
    case IDENTITY:
      return 'node identity'
    case BOOTSTRAP_CONFIGURATION:
      return 'bootstrap configuration'
    case KNOWN_PEER:
      return `known peer ${peerIdOfKnownPeerKey(key)}`
    default:
      return `unknown key 0x${Buffer.from(key).toString('hex')}`
  }
}
