// Encodes RESP2 replies into bytes. Lengths are byte lengths, so every value is binary-safe.

import { assert } from '../base/assert.js'
import type { RespErrorPrefix } from './errors.js'
import type { RespReply } from './reply.js'

const CRLF = Buffer.from('\r\n', 'latin1')
const LINE_BREAK = /[\r\n]/g

/** Appends encoded values to a list of chunks; toBuffer() joins them once. */
export class RespWriter {
  private readonly chunks: Buffer[] = []
  private bytes = 0

  /** `+value`: for short status text written by the server itself, never client data. */
  simpleString(value: string): this {
    assert(!/[\r\n]/.test(value), () => `simple string contains a line break: ${JSON.stringify(value)}`)
    return this.line(`+${value}`)
  }

  /** `-PREFIX message`. Line breaks become spaces: messages may quote client input or backend text. */
  error(prefix: RespErrorPrefix, message: string): this {
    return this.line(`-${prefix} ${message.replace(LINE_BREAK, ' ')}`)
  }

  integer(value: number): this {
    assert(Number.isSafeInteger(value), () => `RESP integer is not a safe integer: ${value}`)
    return this.line(`:${value}`)
  }

  /** `$length` then the bytes; null is the nil bulk string `$-1`. */
  bulkString(value: Uint8Array | string | null): this {
    if (value === null) return this.line('$-1')
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
    this.line(`$${bytes.length}`)
    this.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    return this.push(CRLF)
  }

  /** `*count`, to be followed by `count` values; null is the nil array `*-1`. */
  arrayHeader(count: number | null): this {
    if (count === null) return this.line('*-1')
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
    }
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

export function encodeReply(value: RespReply): Buffer {
  return new RespWriter().reply(value).toBuffer()
}
