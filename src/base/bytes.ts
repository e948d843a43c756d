// Small helpers for fixed-width big-endian integers and length-prefixed fields in binary records.

import { assert } from './assert.js'

const TWO_POW_32 = 0x1_0000_0000

// The writers store bytes one by one instead of going through a DataView: they run for every
// appended entry, and a DataView per call was a measurable share of the append cost.

/** Writes a non-negative safe integer as 8 big-endian bytes at `offset`. */
export function writeUint64(target: Uint8Array, offset: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `uint64 out of range: ${value}`)
  writeUint32(target, offset, Math.floor(value / TWO_POW_32))
  writeUint32(target, offset + 4, value >>> 0)
}

/** Writes `value` modulo 2^32 as 4 big-endian bytes at `offset`, as DataView.setUint32 would. */
export function writeUint32(target: Uint8Array, offset: number, value: number): void {
  // A DataView would throw past the end; a typed-array store would silently drop the byte.
  assert(offset >= 0 && offset + 4 <= target.length, () => `uint32 at offset ${offset} is outside ${target.length} bytes`)
  // A Uint8Array store keeps the low 8 bits, so no masking is needed.
  target[offset] = value >>> 24
  target[offset + 1] = value >>> 16
  target[offset + 2] = value >>> 8
  target[offset + 3] = value >>> 0
}

export function readUint64(source: Uint8Array, offset: number): number {
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength)
  const value = view.getUint32(offset) * TWO_POW_32 + view.getUint32(offset + 4)
  assert(Number.isSafeInteger(value), `uint64 at offset ${offset} exceeds 2^53`)
  return value
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** Accumulates a binary record field by field. */
export class BinaryWriter {
  private readonly parts: Uint8Array[] = []
  private length = 0

  uint8(value: number): this {
    return this.push(Uint8Array.of(value))
  }

  uint32(value: number): this {
    const bytes = new Uint8Array(4)
    writeUint32(bytes, 0, value)
    return this.push(bytes)
  }

  uint64(value: number): this {
    const bytes = new Uint8Array(8)
    writeUint64(bytes, 0, value)
    return this.push(bytes)
  }

  /** A uint32 length followed by the bytes. */
  bytes(value: Uint8Array): this {
    this.uint32(value.length)
    return this.push(value)
  }

  string(value: string): this {
    return this.bytes(textEncoder.encode(value))
  }

  /** The bytes as they are, with no length before them (a magic, or a field that runs to the end). */
  raw(value: Uint8Array): this {
    return this.push(value)
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const part of this.parts) {
      out.set(part, offset)
      offset += part.length
    }
    return out
  }

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes)
    this.length += bytes.length
    return this
  }
}

/** Thrown by BinaryReader when a record is shorter than its fields claim. */
export class TruncatedRecordError extends Error {
  readonly code = 'ERR_TRUNCATED_RECORD'
}

/** Reads fields in the order a BinaryWriter wrote them. */
export class BinaryReader {
  private offset = 0
  private readonly view: DataView
  /** A Buffer over the source, made on the first latin1() (most records never need one). */
  private buffer: Buffer | null = null

  constructor(private readonly source: Uint8Array) {
    this.view = new DataView(source.buffer, source.byteOffset, source.byteLength)
  }

  uint8(): number {
    this.need(1)
    return this.view.getUint8(this.offset++)
  }

  uint32(): number {
    this.need(4)
    const value = this.view.getUint32(this.offset)
    this.offset += 4
    return value
  }

  uint64(): number {
    this.need(8)
    const value = readUint64(this.source, this.offset)
    this.offset += 8
    return value
  }

  /** A big-endian IEEE double. */
  float64(): number {
    this.need(8)
    const value = this.view.getFloat64(this.offset)
    this.offset += 8
    return value
  }

  bytes(): Uint8Array {
    const length = this.uint32()
    this.need(length)
    const value = this.source.subarray(this.offset, this.offset + length)
    this.offset += length
    return value
  }

  string(): string {
    return textDecoder.decode(this.bytes())
  }

  /** A length-prefixed field as a binary string (one character per byte), without an interim view. */
  latin1(): string {
    const length = this.uint32()
    this.need(length)
    this.buffer ??= Buffer.from(this.source.buffer, this.source.byteOffset, this.source.byteLength)
    const value = this.buffer.toString('latin1', this.offset, this.offset + length)
    this.offset += length
    return value
  }

  /** How many bytes have been read so far. */
  get position(): number {
    return this.offset
  }

  /** The bytes read since `start` (an earlier position), as a view. */
  since(start: number): Uint8Array {
    return this.source.subarray(start, this.offset)
  }

  /** Everything not read yet. */
  rest(): Uint8Array {
    const value = this.source.subarray(this.offset)
    this.offset = this.source.length
    return value
  }

  get remaining(): number {
    return this.source.length - this.offset
  }

  private need(count: number): void {
    if (this.offset + count > this.source.length) {
      throw new TruncatedRecordError(`record truncated: need ${count} bytes at offset ${this.offset}, have ${this.source.length - this.offset}`)
    }
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
