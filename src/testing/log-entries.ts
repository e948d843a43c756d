// Deterministic log contents for tests of a LogStore: entries and snapshots whose bytes can be
// re-derived from (index, term, nonce), so a check after a reopen or a crash knows what belongs where.

import type { LogEntry } from '../log/index.js'

/** Payload bytes of the entry (index, term) written by the write tagged `nonce`; 8 to 71 bytes. */
export function entryPayload(index: number, term: number, nonce: number): Uint8Array {
  return derivedBytes(8 + ((index * 7 + nonce) % 64), index * 31 + term * 17 + nonce)
}

/** Bytes of the snapshot through `index` tagged `nonce`. */
export function snapshotPayload(index: number, nonce: number, sizeBytes: number): Uint8Array {
  return derivedBytes(sizeBytes, index * 131 + nonce)
}

function derivedBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length)
  let state = (seed ^ 0x9e3779b9) >>> 0
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state >>> 24
  }
  return out
}

/** `count` contiguous entries from `from`, all in `term`, with payloads from entryPayload. */
export function makeEntries(from: number, count: number, term: number, nonce = 0): LogEntry[] {
  return Array.from({ length: count }, (_, offset) => ({
    index: from + offset,
    term,
    type: 1,
    data: entryPayload(from + offset, term, nonce),
  }))
}

/**
 * `entries` with their data as plain Uint8Arrays, for deep comparison: range reads hand out
 * Buffers (a Uint8Array subclass), which deep equality tells apart from Uint8Arrays.
 */
export function plain(entries: readonly LogEntry[]): LogEntry[] {
  return entries.map((entry) => ({ ...entry, data: Uint8Array.from(entry.data) }))
}
