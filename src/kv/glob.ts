// Redis's glob patterns for KEYS and SCAN MATCH: `*` any run, `?` one character, `[abc]`, `[^a]`,
// `[a-z]` one of a set, `\x` the character x. Matched in O(pattern × key) by the classic
// one-star backtracking (the last `*` seen absorbs one more character on a mismatch), so a hostile
// pattern cannot make matching exponential.

/** Whether `key` matches the glob `pattern`. */
export function globMatch(pattern: string, key: string): boolean {
  let p = 0
  let k = 0
  let starP = -1
  let starK = 0
  while (k < key.length) {
    if (pattern[p] === '*') {
      starP = p++
      starK = k
      continue
    }
    const consumed = p < pattern.length ? matchOne(pattern, p, key.charCodeAt(k)) : 0
    if (consumed > 0) {
      p += consumed
      k++
    } else if (starP >= 0) {
      p = starP + 1
      k = ++starK
    } else {
      return false
    }
  }
  while (pattern[p] === '*') p++
  return p === pattern.length
}

/** How many pattern characters at `p` matched the character `code` (0: no match). */
function matchOne(pattern: string, p: number, code: number): number {
  const token = pattern[p]
  if (token === '?') return 1
  if (token === '\\' && p + 1 < pattern.length) return pattern.charCodeAt(p + 1) === code ? 2 : 0
  if (token !== '[') return pattern.charCodeAt(p) === code ? 1 : 0
  let at = p + 1
  const negated = pattern[at] === '^'
  if (negated) at++
  let matched = false
  while (at < pattern.length && pattern[at] !== ']') {
    if (pattern[at] === '\\' && at + 1 < pattern.length) {
      if (pattern.charCodeAt(at + 1) === code) matched = true
      at += 2
    } else if (pattern[at + 1] === '-' && at + 2 < pattern.length && pattern[at + 2] !== ']') {
      const from = pattern.charCodeAt(at)
      const to = pattern.charCodeAt(at + 2)
      if (code >= Math.min(from, to) && code <= Math.max(from, to)) matched = true
      at += 3
    } else {
      if (pattern.charCodeAt(at) === code) matched = true
      at++
    }
  }
  // An unclosed class runs to the end of the pattern, as in Redis.
  const end = at < pattern.length ? at + 1 : at
  return matched !== negated ? end - p : 0
}
