// Redis's integers: signed 64-bit, written in decimal with an optional minus and no leading zeros,
// plus or spaces. The KV machine's INCR, the checker's model of it and the RESP endpoint's integer
// arguments all read them.

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n
const INTEGER_TEXT = /^-?(0|[1-9][0-9]{0,18})$/

/** The decimal integer `text` as a signed 64-bit value, or null if it is not one. */
export function parseInt64(text: string): bigint | null {
  if (!INTEGER_TEXT.test(text) || text === '-0') return null
  const value = BigInt(text)
  return value >= INT64_MIN && value <= INT64_MAX ? value : null
}

/** Why {@link addInt64} refused: a text that is not an integer, or a sum outside 64 bits. */
export type Int64Refusal = 'not-an-integer' | 'overflow'

/** The decimal sum of the integer texts `value` and `delta`, as Redis's INCRBY computes and refuses it. */
export function addInt64(value: string, delta: string): string | Int64Refusal {
  const current = parseInt64(value)
  const by = parseInt64(delta)
  if (current === null || by === null) return 'not-an-integer'
  const sum = current + by
  return sum < INT64_MIN || sum > INT64_MAX ? 'overflow' : sum.toString()
}
