// Binary encodings of the sharded-KV group's log entries, results and snapshot. The snapshot keeps
// each shard in its own section, so a migration source can take one shard out without the rest.

import { BinaryReader, BinaryWriter } from '../base/bytes.js'
import { fromBinaryString, kvCommandCodec, kvResultCodec, kvStateCodec, toBinaryString } from '../kv/kv.js'
import { type KvEntry, EncodedEntries, entryBytes, readEntry, writeEntry } from '../kv/kv-state-encoding.js'
import type { SessionLimits } from '../statemachine/sessions.js'
import type { ShardConfig } from './config.js'
import type { ChunkPayload, ClientOperation, GroupCommand, GroupError, GroupResult, GroupState } from './group-types.js'
import { decodeShard, encodeShardHead, type ShardState } from './shard-state.js'

export type { ChunkPayload } from './group-types.js'

const COMMAND_KINDS = ['op', 'config', 'chunk', 'delete', 'gc-done'] as const
const PAYLOAD_KINDS = ['data', 'sessions', 'ops', 'end', 'entries', 'clock', 'seal'] as const
const ERRORS: readonly GroupError[] = ['OK', 'ErrWrongGroup', 'ErrNotReady', 'ErrStale']
const EVENTS: readonly GroupResult['event'][] = ['none', 'op', 'complete']
const text = { encoder: new TextEncoder(), decoder: new TextDecoder() }

function writeConfig(writer: BinaryWriter, config: ShardConfig): BinaryWriter {
  return writer.bytes(text.encoder.encode(JSON.stringify(config)))
}

function readConfig(reader: BinaryReader): ShardConfig {
  return JSON.parse(text.decoder.decode(reader.bytes())) as ShardConfig
}

export function writeOperation(writer: BinaryWriter, operation: ClientOperation): BinaryWriter {
  return writer.uint64(operation.clientId).uint64(operation.sequence).uint64(operation.timeMs).bytes(kvCommandCodec.encode(operation.command))
}

export function readOperation(reader: BinaryReader): ClientOperation {
  return { clientId: reader.uint64(), sequence: reader.uint64(), timeMs: reader.uint64(), command: kvCommandCodec.decode(reader.bytes()) }
}

export function encodeChunkPayload(writer: BinaryWriter, payload: ChunkPayload): BinaryWriter {
  writer.uint8(PAYLOAD_KINDS.indexOf(payload.kind))
  switch (payload.kind) {
    case 'data':
      writer.uint32(payload.entries.length)
      for (const [key, value] of payload.entries) writer.bytes(fromBinaryString(key)).bytes(fromBinaryString(value))
      return writer
    case 'entries': {
      writer.uint32(payload.entries.length)
      for (const entry of payload.entries) {
        const bytes = Buffer.allocUnsafe(entryBytes(entry))
        writeEntry(bytes, 0, entry)
        writer.raw(bytes)
      }
      return writer
    }
    case 'clock':
      return writer.uint64(payload.clockMs)
    case 'sessions':
      return writer.bytes(payload.encoded)
    case 'ops':
      writer.uint32(payload.operations.length)
      for (const operation of payload.operations) writeOperation(writer, operation)
      return writer
    case 'end':
    case 'seal':
      return writer.bytes(payload.digest)
  }
}

/** The operation (writeOperation's encoding) an encoded group command carries, without decoding it; null for another kind of command. */
export function encodedOperation(encodedCommand: Uint8Array): Uint8Array | null {
  return encodedCommand[0] === COMMAND_KINDS.indexOf('op') ? encodedCommand.subarray(1) : null
}

/** An 'ops' chunk of operations already encoded (by writeOperation), as encodeChunkPayload writes it. */
export function encodeOperationsChunk(operations: readonly Uint8Array[]): Uint8Array {
  const writer = new BinaryWriter().uint8(PAYLOAD_KINDS.indexOf('ops')).uint32(operations.length)
  for (const operation of operations) writer.raw(operation)
  return writer.finish()
}

/** An 'entries' chunk of `count` entries already encoded one after another (a slice of a snapshot), as encodeChunkPayload writes it. */
export function encodeEntriesChunk(count: number, encodedEntries: Uint8Array): Uint8Array {
  return new BinaryWriter().uint8(PAYLOAD_KINDS.indexOf('entries')).uint32(count).raw(encodedEntries).finish()
}

export function decodeChunkPayload(reader: BinaryReader): ChunkPayload {
  const kind = PAYLOAD_KINDS[reader.uint8()]
  switch (kind) {
    case 'data': {
      const count = reader.uint32()
      const entries: Array<[string, string]> = []
      for (let i = 0; i < count; i++) entries.push([toBinaryString(reader.bytes()), toBinaryString(reader.bytes())])
      return { kind, entries }
    }
    case 'entries': {
      const count = reader.uint32()
      const start = reader.position
      const entries: KvEntry[] = []
      for (let i = 0; i < count; i++) entries.push(readEntry(reader))
      return { kind, entries, encoded: reader.since(start) }
    }
    case 'clock':
      return { kind, clockMs: reader.uint64() }
    case 'sessions':
      return { kind, encoded: reader.bytes() }
    case 'ops': {
      const count = reader.uint32()
      const operations: ClientOperation[] = []
      for (let i = 0; i < count; i++) operations.push(readOperation(reader))
      return { kind, operations }
    }
    case 'end':
    case 'seal':
      return { kind, digest: reader.bytes() }
    default:
      throw new Error('unknown chunk payload kind')
  }
}

/**
 * Why `bytes` is not a chunk payload this build reads, or null if it is: what a group checks
 * before a chunk it fetched goes into its log. Entries, most of a shard, are walked, not decoded.
 */
export function chunkPayloadFault(bytes: Uint8Array): string | null {
  try {
    const reader = new BinaryReader(bytes)
    if (PAYLOAD_KINDS[reader.uint8()] === 'entries') {
      const count = reader.uint32()
      const entries = reader.rest()
      const end = EncodedEntries.endOf(entries, count)
      return end === entries.length ? null : `${entries.length - end} bytes after its ${count} entries`
    }
    decodeChunkPayload(new BinaryReader(bytes))
    return null
  } catch (error) {
    return String(error)
  }
}

export function encodeGroupCommand(command: GroupCommand): Uint8Array {
  const writer = new BinaryWriter().uint8(COMMAND_KINDS.indexOf(command.kind))
  switch (command.kind) {
    case 'op':
      writeOperation(writer, command)
      break
    case 'config':
      writeConfig(writer, command.config)
      break
    case 'chunk':
      writeChunkHead(writer, command)
      encodeChunkPayload(writer, command.payload)
      break
    case 'delete':
    case 'gc-done':
      writer.uint64(command.configNum).uint32(command.shard)
      break
  }
  return writer.finish()
}

type ChunkCommand = Extract<GroupCommand, { kind: 'chunk' }>

function writeChunkHead(writer: BinaryWriter, command: Omit<ChunkCommand, 'kind' | 'payload'>): BinaryWriter {
  return writer.uint64(command.configNum).uint32(command.shard).string(command.transferId).uint32(command.index)
}

/** encodeGroupCommand of a chunk whose payload arrived encoded: the payload's bytes go in as they are. */
export function encodeChunkCommand(command: Omit<ChunkCommand, 'kind' | 'payload'>, encodedPayload: Uint8Array): Uint8Array {
  const writer = new BinaryWriter().uint8(COMMAND_KINDS.indexOf('chunk'))
  return writeChunkHead(writer, command).raw(encodedPayload).finish()
}

export function decodeGroupCommand(bytes: Uint8Array): GroupCommand {
  const reader = new BinaryReader(bytes)
  const kind = COMMAND_KINDS[reader.uint8()]
  switch (kind) {
    case 'op':
      return { kind, ...readOperation(reader) }
    case 'config':
      return { kind, config: readConfig(reader) }
    case 'chunk':
      return {
        kind,
        configNum: reader.uint64(),
        shard: reader.uint32(),
        transferId: reader.string(),
        index: reader.uint32(),
        payload: decodeChunkPayload(reader),
      }
    case 'delete':
    case 'gc-done':
      return { kind, configNum: reader.uint64(), shard: reader.uint32() }
    default:
      throw new Error('unknown group command kind')
  }
}

export function encodeGroupResult(result: GroupResult): Uint8Array {
  const writer = new BinaryWriter()
    .uint8(ERRORS.indexOf(result.err))
    .uint8(EVENTS.indexOf(result.event))
    .uint32(result.shard + 1)
  if (result.kv) writer.uint8(1).bytes(kvResultCodec.encode(result.kv))
  else writer.uint8(0)
  return writer.finish()
}

export function decodeGroupResult(bytes: Uint8Array): GroupResult {
  const reader = new BinaryReader(bytes)
  const err = ERRORS[reader.uint8()] as GroupError
  const event = EVENTS[reader.uint8()] as GroupResult['event']
  const shard = reader.uint32() - 1
  const kv = reader.uint8() === 1 ? kvResultCodec.decode(reader.bytes()) : null
  return { err, event, shard, kv }
}

/** The group's id, configurations and shard count, then each shard as its id and a length-prefixed section. */
export function encodeGroupState(state: GroupState): Uint8Array {
  const writer = new BinaryWriter().raw(encodeGroupHead(state))
  for (const [shard, held] of state.shards) {
    const data = kvStateCodec.encode(held.data)
    writer.raw(shardSectionHead(shard, encodeShardHead(held), data.length)).raw(data)
  }
  return writer.finish()
}

/** A shard section up to its data: the shard's id, the section's length, and the shard's head. */
export function shardSectionHead(shard: number, shardHead: Uint8Array, dataBytes: number): Uint8Array {
  return new BinaryWriter()
    .uint32(shard)
    .uint32(shardHead.length + dataBytes)
    .raw(shardHead)
    .finish()
}

/** Everything of an encoded group state before its shard sections. */
export function encodeGroupHead(state: GroupState): Uint8Array {
  const writer = new BinaryWriter().uint64(state.gid)
  writeConfig(writer, state.config)
  writeConfig(writer, state.previous)
  return writer.uint32(state.shards.size).finish()
}

export function decodeGroupState(bytes: Uint8Array, limits: SessionLimits): GroupState {
  const reader = new BinaryReader(bytes)
  const gid = reader.uint64()
  const config = readConfig(reader)
  const previous = readConfig(reader)
  const shards = new Map<number, ShardState>()
  const count = reader.uint32()
  for (let i = 0; i < count; i++) shards.set(reader.uint32(), decodeShard(reader.bytes(), limits))
  return { gid, config, previous, shards }
}

/** One shard's section (encodeShardHead, then its KV state) out of an encoded group state, decoding nothing; null if the group does not hold it. */
export function shardSection(bytes: Uint8Array, shardId: number): Uint8Array | null {
  const reader = new BinaryReader(bytes)
  reader.uint64()
  readConfig(reader)
  readConfig(reader)
  const count = reader.uint32()
  for (let i = 0; i < count; i++) {
    const id = reader.uint32()
    const section = reader.bytes()
    if (id === shardId) return section
  }
  return null
}
