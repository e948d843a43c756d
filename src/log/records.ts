// Encoding of stored values. Every value starts with a CRC-32 over its key and body, so a flipped
// byte, a torn value or a value stored under the wrong key is detected when it is read.

import { crc32 } from 'node:zlib'
import { BinaryReader, BinaryWriter, TruncatedRecordError, writeUint32, writeUint64 } from '../base/bytes.js'
import { CorruptionError } from './errors.js'
import type { BatchOp } from './group-commit.js'
import { describeKey, ENTRY_KEY_BYTES, writeEntryKey } from './keys.js'
import type { HardState, LogEntry, SnapshotMeta, StoredIdentity } from './types.js'

const CHECKSUM_BYTES = 4
const TERM_BYTES = 8
/** An entry body before its data: the term, then the type (one byte). */
const ENTRY_HEADER_BYTES = TERM_BYTES + 1

function checksum(key: Uint8Array, body: Uint8Array): number {
  return crc32(body, crc32(key))
}

/** Prefixes `body` with the checksum of key + body. */
export function seal(key: Uint8Array, body: Uint8Array): Uint8Array {
  const value = new Uint8Array(CHECKSUM_BYTES + body.length)
  writeUint32(value, 0, checksum(key, body))
  value.set(body, CHECKSUM_BYTES)
  return value
}

/** Returns the body of a sealed value, or throws CorruptionError naming the store and key. */
export function unseal(store: string, key: Uint8Array, value: Uint8Array): Uint8Array {
  if (value.length < CHECKSUM_BYTES) {
    throw new CorruptionError(store, describeKey(key), `value of ${value.length} bytes is shorter than its checksum`)
  }
  const stored = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0)
  const body = value.subarray(CHECKSUM_BYTES)
  const actual = checksum(key, body)
  if (stored !== actual) {
    throw new CorruptionError(
      store,
      describeKey(key),
      `checksum mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')})`,
    )
  }
  return body
}

/** Decodes a body with `read`, turning a short record into a CorruptionError. */
function decodeBody<T>(store: string, key: Uint8Array, body: Uint8Array, read: (reader: BinaryReader) => T): T {
  try {
    return read(new BinaryReader(body))
  } catch (error) {
    if (error instanceof TruncatedRecordError) throw new CorruptionError(store, describeKey(key), error.message)
    throw error
  }
}

/** Bytes `entry` takes in the database: its key plus its sealed value. */
export function storedEntryBytes(entry: LogEntry): number {
  return ENTRY_KEY_BYTES + CHECKSUM_BYTES + ENTRY_HEADER_BYTES + entry.data.length
}

/**
 * Pushes a put of each entry onto `ops` and returns the bytes of their values. Each value is
 * seal(entryKey(index), term ++ type ++ data), but the keys and values of all the entries are
 * written back to back into one buffer with byte stores and the checksum is chained over key and
 * body in place: appends are the hot path, and a buffer, a copy and a DataView per field per entry
 * were most of what the store cost over raw LevelDB.
 *
 * Sharing the buffer is safe because nothing writes to it after this returns. classic-level copies
 * keys and values into its write batch; memory-level keeps the views, so there an entry it retains
 * keeps its whole append's buffer alive.
 */
export function encodeEntryPuts(entries: readonly LogEntry[], ops: BatchOp[]): number {
  let totalBytes = 0
  for (let i = 0; i < entries.length; i++) totalBytes += storedEntryBytes(entries[i] as LogEntry)
  const buffer = new ArrayBuffer(totalBytes)
  const bytes = new Uint8Array(buffer)
  let offset = 0
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as LogEntry
    writeEntryKey(bytes, offset, entry.index)
    const key = new Uint8Array(buffer, offset, ENTRY_KEY_BYTES)
    const valueOffset = offset + ENTRY_KEY_BYTES
    const bodyOffset = valueOffset + CHECKSUM_BYTES
    writeUint64(bytes, bodyOffset, entry.term)
    bytes[bodyOffset + TERM_BYTES] = entry.type
    bytes.set(entry.data, bodyOffset + ENTRY_HEADER_BYTES)
    const end = bodyOffset + ENTRY_HEADER_BYTES + entry.data.length
    writeUint32(bytes, valueOffset, checksum(key, new Uint8Array(buffer, bodyOffset, end - bodyOffset)))
    ops.push({ type: 'put', key, value: new Uint8Array(buffer, valueOffset, end - valueOffset) })
    offset = end
  }
  return totalBytes - ENTRY_KEY_BYTES * entries.length
}

export function decodeEntryValue(store: string, key: Uint8Array, index: number, value: Uint8Array): LogEntry {
  const body = unseal(store, key, value)
  return decodeBody(store, key, body, (reader) => {
    const term = reader.uint64()
    const type = reader.uint8()
    return { index, term, type, data: reader.rest() }
  })
}

export function encodeHardState(key: Uint8Array, state: HardState): Uint8Array {
  const writer = new BinaryWriter().uint64(state.term).uint64(state.commitIndex)
  if (state.votedFor === null) writer.uint8(0)
  else writer.uint8(1).string(state.votedFor)
  return seal(key, writer.finish())
}

export function decodeHardState(store: string, key: Uint8Array, value: Uint8Array): HardState {
  return decodeBody(store, key, unseal(store, key, value), (reader) => {
    const term = reader.uint64()
    const commitIndex = reader.uint64()
    const votedFor = reader.uint8() === 1 ? reader.string() : null
    return { term, votedFor, commitIndex }
  })
}

export function encodeSnapshotMeta(key: Uint8Array, meta: SnapshotMeta): Uint8Array {
  const body = new BinaryWriter()
    .uint64(meta.generation)
    .uint64(meta.lastIncludedIndex)
    .uint64(meta.lastIncludedTerm)
    .uint64(meta.sizeBytes)
    .uint32(meta.chunkCount)
    .uint32(meta.dataCrc)
    .bytes(meta.appMeta)
    .bytes(meta.configuration)
    .finish()
  return seal(key, body)
}

export function decodeSnapshotMeta(store: string, key: Uint8Array, value: Uint8Array): SnapshotMeta {
  return decodeBody(store, key, unseal(store, key, value), (reader) => ({
    generation: reader.uint64(),
    lastIncludedIndex: reader.uint64(),
    lastIncludedTerm: reader.uint64(),
    sizeBytes: reader.uint64(),
    chunkCount: reader.uint32(),
    dataCrc: reader.uint32(),
    appMeta: reader.bytes(),
    configuration: reader.bytes(),
  }))
}

/** The configuration a cluster was founded with (opaque bytes: Raft's encoded Configuration). */
export function encodeBootstrapConfiguration(key: Uint8Array, configuration: Uint8Array): Uint8Array {
  return seal(key, new BinaryWriter().bytes(configuration).finish())
}

export function decodeBootstrapConfiguration(store: string, key: Uint8Array, value: Uint8Array): Uint8Array {
  return decodeBody(store, key, unseal(store, key, value), (reader) => reader.bytes())
}

export function encodeIdentity(key: Uint8Array, identity: StoredIdentity): Uint8Array {
  const writer = new BinaryWriter().string(identity.clusterId).string(identity.nodeId).string(identity.incarnation)
  if (identity.lostState === null) writer.uint8(0)
  else writer.uint8(1).string(identity.lostState)
  return seal(key, writer.finish())
}

export function decodeIdentity(store: string, key: Uint8Array, value: Uint8Array): StoredIdentity {
  return decodeBody(store, key, unseal(store, key, value), (reader) => ({
    clusterId: reader.string(),
    nodeId: reader.string(),
    incarnation: reader.string(),
    lostState: reader.uint8() === 1 ? reader.string() : null,
  }))
}

/** A peer's data-directory incarnation as this node first saw it. */
export function encodeKnownPeer(key: Uint8Array, incarnation: string): Uint8Array {
  return seal(key, new BinaryWriter().string(incarnation).finish())
}

export function decodeKnownPeer(store: string, key: Uint8Array, value: Uint8Array): string {
  return decodeBody(store, key, unseal(store, key, value), (reader) => reader.string())
}
