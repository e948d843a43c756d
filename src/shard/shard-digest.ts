// An order-independent digest of a shard, to check that a migration rebuilt it exactly. Each key
// (with its value, type and deadline) hashes to 64 bits, and the digest sums those hashes lane by
// lane: no sort of the keys, a key can be added or taken out in any order, so the new owner keeps
// the sum up to date chunk by chunk as keys arrive and operations replay, and the source sums its
// frozen shard a slice at a time between other work. Log time, the key count and the sessions are
// mixed in at the end with SHA-256.
//
// The per-key hash guards against bugs (a key lost, duplicated, invented or changed on the way),
// not against an adversary: two 32-bit multiply-xorshift lanes over the key's bytes, four to a
// word, each part length-prefixed, a hash's fields summed so their order does not matter either.

import { createHash } from 'node:crypto'
import type { KvValue } from '../kv/kv.js'

const LANE_A_SEED = 0x9e3779b9
const LANE_B_SEED = 0x85ebca6b
const LANE_A_MULTIPLIER = 0x2c1b3c6d
const LANE_B_MULTIPLIER = 0x297a2d39
const FIELD_MARK = 0x68
const STRING_MARK = 0x73

/** Scratch for a deadline's 8 bytes as two 32-bit words. */
const deadlineWords = new Uint32Array(2)
const deadlineView = new Float64Array(deadlineWords.buffer)

/** Scrambles a lane's state so that every input bit reaches every output bit. */
function settle(state: number, multiplier: number): number {
  let h = state ^ (state >>> 16)
  h = Math.imul(h, multiplier)
  h ^= h >>> 13
  h = Math.imul(h, multiplier ^ 0x5bd1e995)
  return (h ^ (h >>> 16)) >>> 0
}

/** Two 32-bit lanes fed a word at a time; binary strings go in four characters (bytes) to a word. */
class LanePair {
  a = LANE_A_SEED
  b = LANE_B_SEED

  word(value: number): void {
    this.a = Math.imul(this.a ^ value, LANE_A_MULTIPLIER) ^ (this.a >>> 15)
    this.b = Math.imul((this.b + value) | 0, LANE_B_MULTIPLIER) ^ (this.b >>> 17)
  }

  /** A binary string (one byte per character), after its length. */
  text(value: string): void {
    let a = this.a
    let b = this.b
    const length = value.length
    a = Math.imul(a ^ length, LANE_A_MULTIPLIER) ^ (a >>> 15)
    b = Math.imul((b + length) | 0, LANE_B_MULTIPLIER) ^ (b >>> 17)
    let i = 0
    for (; i + 4 <= length; i += 4) {
      const word = value.charCodeAt(i) | (value.charCodeAt(i + 1) << 8) | (value.charCodeAt(i + 2) << 16) | (value.charCodeAt(i + 3) << 24)
      a = Math.imul(a ^ word, LANE_A_MULTIPLIER) ^ (a >>> 15)
      b = Math.imul((b + word) | 0, LANE_B_MULTIPLIER) ^ (b >>> 17)
    }
    for (; i < length; i++) {
      const code = value.charCodeAt(i)
      a = Math.imul(a ^ code, LANE_A_MULTIPLIER) ^ (a >>> 15)
      b = Math.imul((b + code) | 0, LANE_B_MULTIPLIER) ^ (b >>> 17)
    }
    this.a = a
    this.b = b
  }
}

/** The 64-bit hash of one key as two 32-bit words (written into `out`). */
function keyHash(key: string, value: KvValue, deadline: number | undefined, out: Uint32Array): void {
  const lanes = new LanePair()
  lanes.text(key)
  if (deadline === undefined) lanes.word(0)
  else {
    deadlineView[0] = deadline
    lanes.word(1)
    lanes.word(deadlineWords[0] as number)
    lanes.word(deadlineWords[1] as number)
  }
  if (typeof value === 'string') {
    lanes.word(STRING_MARK)
    lanes.text(value)
  } else {
    // A hash's fields, each hashed alone and summed: their order is not part of the value.
    let sumA = 0
    let sumB = 0
    for (const [field, fieldValue] of value) {
      const fieldLanes = new LanePair()
      fieldLanes.text(field)
      fieldLanes.text(fieldValue)
      sumA = (sumA + settle(fieldLanes.a, LANE_A_MULTIPLIER)) | 0
      sumB = (sumB + settle(fieldLanes.b, LANE_B_MULTIPLIER)) | 0
    }
    lanes.word(FIELD_MARK)
    lanes.word(value.size)
    lanes.word(sumA)
    lanes.word(sumB)
  }
  out[0] = settle(lanes.a, LANE_A_MULTIPLIER)
  out[1] = settle(lanes.b, LANE_B_MULTIPLIER)
}

/** The running sum of a shard's key hashes; equal sums (and counts) mean equal keys and values. */
export class ShardDigest {
  private sumA = 0
  private sumB = 0
  private keys = 0
  private readonly scratch = new Uint32Array(2)

  /** The digest of every key in `entries` (with `deadlines`) at once. */
  static of(entries: ReadonlyMap<string, KvValue>, deadlines: ReadonlyMap<string, number>): ShardDigest {
    const digest = new ShardDigest()
    for (const [key, value] of entries) digest.add(key, value, deadlines.get(key))
    return digest
  }

  add(key: string, value: KvValue, deadline: number | undefined): void {
    keyHash(key, value, deadline, this.scratch)
    this.sumA = (this.sumA + (this.scratch[0] as number)) | 0
    this.sumB = (this.sumB + (this.scratch[1] as number)) | 0
    this.keys++
  }

  remove(key: string, value: KvValue, deadline: number | undefined): void {
    keyHash(key, value, deadline, this.scratch)
    this.sumA = (this.sumA - (this.scratch[0] as number)) | 0
    this.sumB = (this.sumB - (this.scratch[1] as number)) | 0
    this.keys--
  }

  /** The digest of the keys summed so far, with the shard's log time and its encoded sessions. */
  finish(clockMs: number, encodedSessions: Uint8Array): Uint8Array {
    const head = Buffer.alloc(4 + 4 + 8 + 8)
    head.writeUInt32BE(this.sumA >>> 0, 0)
    head.writeUInt32BE(this.sumB >>> 0, 4)
    head.writeDoubleBE(this.keys, 8)
    head.writeDoubleBE(clockMs, 16)
    return createHash('sha256').update(head).update(encodedSessions).digest()
  }
}
