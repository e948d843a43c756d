// Codecs a machine can take for its commands, results and state when protobuf (protoCodec,
// protoFileCodec) is more than it needs: any { encode, decode } pair will do, and JSON is one.

import type { Codec } from './types.js'

/** JSON as UTF-8 bytes: plain data (no Maps, Sets, bigints or binary) round-trips. */
export function jsonCodec<T>(): Codec<T> {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  return {
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(decoder.decode(bytes)) as T,
  }
}
