import { assert } from './assert.js'

function splitmix32(state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/**
 * A small, fast, seedable pseudo-random generator (sfc32, seeded through splitmix32). Every random
 * choice in a simulation comes from one of these, so a seed replays a run exactly. Not for
 * secrets: it is not cryptographically secure.
 */
export class Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  /** `seed` may be any safe integer; both 32-bit halves take part in the state. */
  constructor(readonly seed: number) {
    assert(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`)
    const low = splitmix32(seed >>> 0)
    const high = splitmix32(Math.floor(seed / 0x1_0000_0000) ^ 0x5bd1e995)
    this.a = low()
    this.b = high()
    this.c = low() ^ high()
    this.d = 1
    for (let i = 0; i < 12; i++) this.uint32()
  }

  /** Uniform integer in [0, 2³²): the next raw output, from which every other draw is made. */
  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) >>> 0
    return t
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 0x1_0000_0000
  }

  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    assert(Number.isInteger(maxExclusive) && maxExclusive > 0, `int() needs a positive bound, got ${maxExclusive}`)
    return Math.floor(this.float() * maxExclusive)
  }

  /** Uniform integer in [low, highInclusive]. */
  intBetween(low: number, highInclusive: number): number {
    return low + this.int(highInclusive - low + 1)
  }

  /** True with probability `probability` (0 never, 1 always). */
  chance(probability: number): boolean {
    return this.float() < probability
  }

  /** A uniformly chosen element of `items`, which must not be empty. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick() from an empty list')
    return items[this.int(items.length)] as T
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const held = items[i] as T
      items[i] = items[j] as T
      items[j] = held
    }
    return items
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i++) out[i] = this.uint32() & 0xff
    return out
  }

  /** An independent generator derived from this one's stream. */
  fork(): Rng {
    return new Rng(this.uint32() * 0x20_0000 + (this.uint32() & 0x1f_ffff))
  }
}
