// Which reduce task a key goes to: 32-bit FNV-1a of the key's UTF-8 bytes, masked to 31 bits, mod
// nReduce — the same function as the MIT lab's ihash, so partitions match the lab's.

const FNV_OFFSET_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193
const encoder = new TextEncoder()

export function ihash(key: string): number {
  let hash = FNV_OFFSET_BASIS
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i)
    // ASCII is its own UTF-8; the first other character sends the whole key through the encoder.
    if (code >= 0x80) return hashBytes(encoder.encode(key))
    hash = Math.imul(hash ^ code, FNV_PRIME)
  }
  return hash & 0x7fffffff
}

function hashBytes(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME)
  return hash & 0x7fffffff
}

export function partitionOf(key: string, nReduce: number): number {
  return ihash(key) % nReduce
}
