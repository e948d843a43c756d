// Encodes replies into bytes, in RESP2 or RESP3 as the connection speaks (HELLO 3 switches it).
// Lengths are byte lengths, so every value is binary-safe.

import { assert } from '../base/assert.js'
import type { RespErrorPrefix } from './errors.js'
import type { RespReply } from './reply.js'

const CRLF = Buffer.from('\r\n', 'latin1')
const LINE_BREAK = /[\r\n]/g

/** The protocol a connection speaks: 2 until the client asks for 3 with HELLO 3. */
export type RespProtocol = 2 | 3

/** Appends encoded values to a list of chunks; toBuffer() joins them once. */
export class RespWriter {
  private readonly chunks: Buffer[] = []
  private bytes = 0

  constructor(private readonly protocol: RespProtocol = 2) {}

  /** `+value`: for short status text written by the server itself, never client data. */
  simpleString(value: string): this {
    assert(!/[\r\n]/.test(value), () => `simple string contains a line break: ${JSON.stringify(value)}`)
    return this.line(`+${value}`)
  }

  /** `-PREFIX message`. Line breaks become spaces: messages may quote client input or backend text. */
  error(prefix: RespErrorPrefix, message: string): this {
    return this.line(`-${prefix} ${message.replace(LINE_BREAK, ' ')}`)
  }

  integer(value: number | bigint): this {
    assert(typeof value === 'bigint' || Number.isSafeInteger(value), () => `RESP integer is not a safe integer: ${value}`)
    return this.line(`:${value}`)
  }

  /** `$length` then the bytes; null is the nil bulk string `$-1` (RESP3's null `_`). */
  bulkString(value: Uint8Array | string | null): this {
    if (value === null) return this.null()
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    this.line(`$${bytes.length}`)
    this.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    return this.push(CRLF)
  }

  /** `*count`, to be followed by `count` values; null is the nil array `*-1` (RESP3's null `_`). */
  arrayHeader(count: number | null): this {
    if (count === null) return this.line(this.protocol === 3 ? '_' : '*-1')
    assert(Number.isSafeInteger(count) && count >= 0, () => `bad RESP array length ${count}`)
    return this.line(`*${count}`)
  }

  reply(value: RespReply): this {
    switch (value.kind) {
      case 'simple':
        return this.simpleString(value.value)
      case 'error':
        return this.error(value.prefix, value.message)
      case 'integer':
        return this.integer(value.value)
      case 'bulk':
        return this.bulkString(value.value)
      case 'array':
        this.arrayHeader(value.items === null ? null : value.items.length)
        for (const item of value.items ?? []) this.reply(item)
        return this
      case 'map':
        this.line(this.protocol === 3 ? `%${value.entries.length}` : `*${2 * value.entries.length}`)
        for (const [key, item] of value.entries) this.reply(key).reply(item)
        return this
      case 'set':
        this.line(this.protocol === 3 ? `~${value.items.length}` : `*${value.items.length}`)
        for (const item of value.items) this.reply(item)
        return this
      case 'null':
        return this.null()
      case 'double':
        return this.protocol === 3 ? this.line(`,${formatDouble(value.value)}`) : this.bulkString(formatDouble(value.value))
      case 'boolean':
        return this.protocol === 3 ? this.line(value.value ? '#t' : '#f') : this.integer(value.value ? 1 : 0)
      case 'verbatim':
        return this.protocol === 3 ? this.verbatim(value.format, value.text) : this.bulkString(value.text)
    }
  }

  /** RESP3's null `_`; in RESP2 the nil bulk string `$-1`, which every RESP2 client reads as nil. */
  private null(): this {
    return this.line(this.protocol === 3 ? '_' : '$-1')
  }

  /** `=length` then `fmt:` and the text. */
  private verbatim(format: string, text: string): this {
    assert(/^[a-z]{3}$/.test(format), () => `verbatim format must be three letters: ${format}`)
    const bytes = Buffer.from(`${format}:${text}`, 'utf8')
    this.line(`=${bytes.length}`)
    this.push(bytes)
    return this.push(CRLF)
  }

  get byteLength(): number {
    return this.bytes
  }

  toBuffer(): Buffer {
    return this.chunks.length === 1 && this.chunks[0] ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes)
  }

  private line(text: string): this {
    return this.push(Buffer.from(`${text}\r\n`, 'utf8'))
  }

  private push(chunk: Buffer): this {
    this.chunks.push(chunk)
    this.bytes += chunk.length
    return this
  }
}

export function encodeReply(value: RespReply, protocol: RespProtocol = 2): Buffer {
  return new RespWriter(protocol).reply(value).toBuffer()
}

/** A double as RESP3 writes it (and RESP2 as a bulk string): inf, -inf, nan, or the number's shortest text. */
function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan'
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf'
  return String(value)
}
