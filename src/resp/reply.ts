// Replies as data: a command returns a RespReply and the connection encodes it (writer.ts), so
// command logic stays free of sockets and byte layout.

import type { RespErrorPrefix } from './errors.js'

/** One RESP2 reply value. A null bulk string or null array is RESP2's "nil". */
export type RespReply =
  | { readonly kind: 'simple'; readonly value: string }
  | { readonly kind: 'error'; readonly prefix: RespErrorPrefix; readonly message: string }
  | { readonly kind: 'integer'; readonly value: number }
  | { readonly kind: 'bulk'; readonly value: Uint8Array | null }
  | { readonly kind: 'array'; readonly items: readonly RespReply[] | null }

export function simpleReply(value: string): RespReply {
  return { kind: 'simple', value }
}

export function errorReply(prefix: RespErrorPrefix, message: string): RespReply {
  return { kind: 'error', prefix, message }
}

export function integerReply(value: number): RespReply {
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
