// The KV state's snapshot encoding, produced piece by piece: a marker, log time and the count, then
// each key with its type, deadline and value. The keys are listed when the encoding begins (listing
// is cheap; encoding every value is not), and a command about to change a key first leaves the
// key's value and deadline with the encoding, so pieces encoded later still hold the state as it was
// at the start. A flush swaps in new maps, so the ones listed here stop changing by themselves.
//
// Layout (big-endian): 0xFFFFFFFF, float64 log time, uint32 count, then per key: uint8 kind (0
// string, 1 hash; +0x80 when a float64 deadline follows), the deadline, uint32 length + key, and a
// string's uint32 length + bytes or a hash's uint32 field count + (length, field, length, value)
// each. Snapshots written before types and deadlines existed (a count, then length-prefixed keys and
// string values) still decode (decodeKvState).

import { assert } from '../base/assert.js'
import { BinaryReader } from '../base/bytes.js'
import { commandKeys, isReadCommand } from './kv-ops.js'
import { type KvValue, KvState } from './kv-state.js'
import type { KvCommand } from './types.js'
import type { StateEncoding } from '../statemachine/types.js'

const MARKER = 0xffffffff
const HEAD_BYTES = 4 + 8 + 4
const LENGTH_BYTES = 4
const KIND_STRING = 0
const KIND_HASH = 1
const HAS_DEADLINE = 0x80
const DEADLINE_BYTES = 8

/** One key as encoded: its value and deadline. */
export interface KvEntry {
  readonly key: string
  readonly value: KvValue
  readonly deadline: number | undefined
}

/** The head of a KV state's encoding: the marker, log time and the count of entries that follow. */
export function kvStateHead(clockMs: number, count: number): Uint8Array {
  const head = Buffer.allocUnsafe(HEAD_BYTES)
  writeHead(head, 0, clockMs, count)
  return head
}

/** Writes the head at `offset` in `target`; returns the offset after it. */
function writeHead(target: Buffer, offset: number, clockMs: number, count: number): number {
  offset = target.writeUInt32BE(MARKER, offset)
  offset = target.writeDoubleBE(clockMs, offset)
  return target.writeUInt32BE(count, offset)
}

/** The encoded size of one entry. */
export function entryBytes({ key, value, deadline }: KvEntry): number {
  return encodedSize(key, value, deadline)
}

function encodedSize(key: string, value: KvValue, deadline: number | undefined): number {
  let size = 1 + (deadline === undefined ? 0 : DEADLINE_BYTES) + LENGTH_BYTES + key.length + LENGTH_BYTES
  if (typeof value === 'string') return size + value.length
  for (const [field, fieldValue] of value) size += 2 * LENGTH_BYTES + field.length + fieldValue.length
  return size
}

/** Writes one entry at `offset` of `target` (which has room); returns the offset after it. */
export function writeEntry(target: Buffer, offset: number, { key, value, deadline }: KvEntry): number {
  const kind = (typeof value === 'string' ? KIND_STRING : KIND_HASH) | (deadline === undefined ? 0 : HAS_DEADLINE)
  offset = target.writeUInt8(kind, offset)
  if (deadline !== undefined) offset = target.writeDoubleBE(deadline, offset)
  offset = target.writeUInt32BE(key.length, offset)
  offset += target.write(key, offset, 'latin1')
  if (typeof value === 'string') {
    offset = target.writeUInt32BE(value.length, offset)
    return offset + target.write(value, offset, 'latin1')
  }
  offset = target.writeUInt32BE(value.size, offset)
  for (const [field, fieldValue] of value) {
    offset = target.writeUInt32BE(field.length, offset)
    offset += target.write(field, offset, 'latin1')
    offset = target.writeUInt32BE(fieldValue.length, offset)
    offset += target.write(fieldValue, offset, 'latin1')
  }
  return offset
}

/** Reads one entry written by writeEntry. */
export function readEntry(reader: BinaryReader): KvEntry {
  const kind = reader.uint8()
  const deadline = kind & HAS_DEADLINE ? reader.float64() : undefined
  const key = reader.latin1()
  if ((kind & ~HAS_DEADLINE) === KIND_STRING) return { key, value: reader.latin1(), deadline }
  const fields = reader.uint32()
  const hash = new Map<string, string>()
  for (let i = 0; i < fields; i++) hash.set(reader.latin1(), reader.latin1())
  return { key, value: hash, deadline }
}

/** Adds a decoded entry to `state`. */
export function addEntry(state: KvState, { key, value, deadline }: KvEntry): void {
  state.set(key, value)
  state.setDeadline(key, deadline)
}

/**
 * The entries of an encoded KV state (this layout), walked without decoding them: a migration
 * sends them on as they are, cut at entry boundaries.
 */
export class EncodedEntries {
  private readonly view: DataView

  private constructor(
    /** The entries, one after another, as writeEntry wrote them. */
    readonly bytes: Uint8Array,
    readonly count: number,
    readonly clockMs: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** The offset just past `count` entries at the start of `bytes`; throws a RangeError if they run past its end. */
  static endOf(bytes: Uint8Array, count: number): number {
    const entries = new EncodedEntries(bytes, count, 0)
    let offset = 0
    for (let i = 0; i < count; i++) offset = entries.entryEnd(offset)
    if (offset > bytes.length) throw new RangeError(`${count} entries run to ${offset}, past the ${bytes.length} bytes that hold them`)
    return offset
  }

  /** The entries of `state` (an encoded KV state); null for the layout before types and deadlines. */
  static open(state: Uint8Array): EncodedEntries | null {
    const reader = new BinaryReader(state)
    if (reader.uint32() !== MARKER) return null
    const clockMs = reader.float64()
    const count = reader.uint32()
    return new EncodedEntries(reader.rest(), count, clockMs)
  }

  /** The offset just past the entry that starts at `offset`. */
  entryEnd(offset: number): number {
    const kind = this.view.getUint8(offset)
    offset += 1 + (kind & HAS_DEADLINE ? DEADLINE_BYTES : 0)
    offset += LENGTH_BYTES + this.view.getUint32(offset)
    if ((kind & ~HAS_DEADLINE) === KIND_STRING) return offset + LENGTH_BYTES + this.view.getUint32(offset)
    const fields = this.view.getUint32(offset)
    offset += LENGTH_BYTES
    for (let i = 0; i < 2 * fields; i++) offset += LENGTH_BYTES + this.view.getUint32(offset)
    return offset
  }
}

/** The state `bytes` encode (this layout, or the one before types and deadlines). */
export function decodeKvState(bytes: Uint8Array): KvState {
  const reader = new BinaryReader(bytes)
  const state = new KvState()
  const head = reader.uint32()
  if (head !== MARKER) {
    for (let i = 0; i < head; i++) state.set(reader.latin1(), reader.latin1())
    return state
  }
  state.clockMs = reader.float64()
  const count = reader.uint32()
  for (let i = 0; i < count; i++) addEntry(state, readEntry(reader))
  return state
}

/** A deep enough copy that later in-place changes (a hash's fields) do not reach it. */
function frozenCopy(value: KvValue | undefined): KvValue | undefined {
  return typeof value === 'object' ? new Map(value) : value
}

export class KvStateEncoding implements StateEncoding<KvCommand> {
  private readonly keys: string[]
  private readonly entries: Map<string, KvValue>
  private readonly deadlines: Map<string, number>
  private readonly clockMs: number
  /** Values and deadlines as they were at the start (value undefined: absent) of keys changed since. */
  private readonly before = new Map<string, { value: KvValue | undefined; deadline: number | undefined }>()
  private position = 0
  private headWritten = false
  /** How many keys (of `keys`, in order) measure() has measured, and the bytes they and the head take. */
  private measuredKeys = 0
  private measuredBytes = HEAD_BYTES

  constructor(private readonly state: KvState) {
    this.entries = state.entries
    this.deadlines = state.deadlines
    this.clockMs = state.clockMs
    this.keys = [...state.entries.keys()]
  }

  /**
   * Measures up to `maxKeys` more keys towards the length of the whole encoding (as of the start,
   * like every piece): the length once every key is measured, null before. A big state's length
   * can so be taken over several turns of the event loop.
   */
  measure(maxKeys: number): number | null {
    // Builds no entry objects, and looks for a changed key only if any key changed.
    const changed = this.before.size > 0
    const end = Math.min(this.keys.length, this.measuredKeys + maxKeys)
    let size = this.measuredBytes
    for (let i = this.measuredKeys; i < end; i++) {
      const key = this.keys[i] as string
      if (changed && this.before.has(key)) size += entryBytes(this.entryAtStart(key))
      else size += encodedSize(key, this.entries.get(key) as KvValue, this.deadlines.get(key))
    }
    this.measuredKeys = end
    this.measuredBytes = size
    return end === this.keys.length ? size : null
  }

  preserve(command: KvCommand): void {
    if (!isReadCommand(command)) this.preserveKeys(commandKeys(command))
  }

  /** Keeps the values and deadlines `keys` have now, before something changes them. */
  preserveKeys(keys: Iterable<string>): void {
    // After a flush the listed maps are no longer the state's, and nothing changes them.
    if (this.state.entries !== this.entries) return
    for (const key of keys) {
      if (this.before.has(key)) continue
      const value = this.entries.get(key)
      // Absent now and unchanged since the start: absent then too, so not listed, nothing to keep.
      // (A migration's new keys are all of this kind.)
      if (value === undefined) continue
      this.before.set(key, { value: frozenCopy(value), deadline: this.deadlines.get(key) })
    }
  }

  next(budgetBytes: number): Uint8Array | null {
    if (this.headWritten && this.position === this.keys.length) return null
    const entries: KvEntry[] = []
    let size = this.headWritten ? 0 : HEAD_BYTES
    for (let i = this.position; i < this.keys.length && (entries.length === 0 || size < budgetBytes); i++) {
      const entry = this.entryAtStart(this.keys[i] as string)
      entries.push(entry)
      size += entryBytes(entry)
    }
    const piece = Buffer.allocUnsafe(size)
    let offset = 0
    if (!this.headWritten) {
      offset = writeHead(piece, offset, this.clockMs, this.keys.length)
      this.headWritten = true
    }
    for (const entry of entries) offset = writeEntry(piece, offset, entry)
    this.position += entries.length
    assert(offset === size, () => `KV state piece encoded to ${offset} bytes, expected ${size}`)
    return piece
  }

  private entryAtStart(key: string): KvEntry {
    const saved = this.before.get(key)
    const value = saved ? saved.value : this.entries.get(key)
    assert(value !== undefined, () => `key ${JSON.stringify(key.slice(0, 64))} was listed but has no value`)
    return { key, value, deadline: saved ? saved.deadline : this.deadlines.get(key) }
  }
}
