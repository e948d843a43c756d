// Replies as data: a command returns a RespReply and the connection encodes it (writer.ts), so
// command logic stays free of sockets and byte layout.

import type { RespErrorPrefix } from './errors.js'

/**
 * One reply value. The first five are RESP2's (a null bulk string or null array is its "nil"); the
 * others are RESP3's, which a RESP2 connection receives as RESP2 sends them (writer.ts): a map as a
 * flat array of keys and values, a set as an array, null as the nil bulk string, a double as a
 * bulk string, a boolean as 1 or 0, a verbatim string as a bulk string.
 */
export type RespReply =
  | { readonly kind: 'simple'; readonly value: string }
  | { readonly kind: 'error'; readonly prefix: RespErrorPrefix; readonly message: string }
  | { readonly kind: 'integer'; readonly value: number | bigint }
  | { readonly kind: 'bulk'; readonly value: Uint8Array | null }
  | { readonly kind: 'array'; readonly items: readonly RespReply[] | null }
  | { readonly kind: 'map'; readonly entries: ReadonlyArray<readonly [RespReply, RespReply]> }
  | { readonly kind: 'set'; readonly items: readonly RespReply[] }
  | { readonly kind: 'null' }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'verbatim'; readonly format: string; readonly text: string }

export function simpleReply(value: string): RespReply {
  return { kind: 'simple', value }
}

export function errorReply(prefix: RespErrorPrefix, message: string): RespReply {
  return { kind: 'error', prefix, message }
}

export function integerReply(value: number | bigint): RespReply {
  return { kind: 'integer', value }
}

/** A bulk string; text is encoded as UTF-8. */
export function bulkReply(value: Uint8Array | string | null): RespReply {
  return { kind: 'bulk', value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value }
}

export function arrayReply(items: readonly RespReply[] | null): RespReply {
  return { kind: 'array', items }
}

export const OK_REPLY: RespReply = simpleReply('OK')
export const NULL_BULK_REPLY: RespReply = bulkReply(null)

/** A map; keys given as text become bulk strings. */
export function mapReply(entries: ReadonlyArray<readonly [RespReply | string, RespReply]>): RespReply {
  return { kind: 'map', entries: entries.map(([key, value]) => [typeof key === 'string' ? bulkReply(key) : key, value] as const) }
}

export function setReply(items: readonly RespReply[]): RespReply {
  return { kind: 'set', items }
}

export const NULL_REPLY: RespReply = { kind: 'null' }

export function doubleReply(value: number): RespReply {
  return { kind: 'double', value }
}

export function booleanReply(value: boolean): RespReply {
  return { kind: 'boolean', value }
}

/** Text with a three-letter format ("txt" for plain text, "mkd" for markdown), as INFO sends it in RESP3. */
export function verbatimReply(text: string, format = 'txt'): RespReply {
  return { kind: 'verbatim', format, text }
}
