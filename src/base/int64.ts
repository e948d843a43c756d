// Redis's integers: signed 64-bit, written in decimal with an optional minus and no leading zeros,
// plus or spaces. The KV machine's INCR and the RESP endpoint's integer arguments both read them.

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n
const INTEGER_TEXT = /^-?(0|[1-9][0-9]{0,18})$/

/** The decimal integer `text` as a signed 64-bit value, or null if it is not one. */
export function parseInt64(text: string): bigint | null {
  if (!INTEGER_TEXT.test(text) || text === '-0') return null
  const value = BigInt(text)
  return value >= INT64_MIN && value <= INT64_MAX ? value : null
}
