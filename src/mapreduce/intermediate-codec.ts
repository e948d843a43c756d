// The lines of an intermediate file mr-X-Y: one JSON array [key, value] per line, so any string
// survives and the file stays readable. Most lines hold no escape at all (`["word","12"]`); those
// are cut apart with indexOf instead of parsed, and only a line with a backslash goes to JSON.parse.

import { MapReduceError } from './errors.js'
import type { KeyGroups } from './key-groups.js'

/** One line for the pair; `keyJson` is JSON.stringify(key), which a caller may keep for the key's next pair. */
export function encodeLine(keyJson: string, value: string): string {
  return `[${keyJson},${JSON.stringify(value)}]\n`
}

/** Adds the pairs of one intermediate file to `groups`; throws ERR_MR_BAD_INTERMEDIATE naming the file if a line is not a pair. */
export function decodeIntermediateInto(text: string, fileName: string, groups: KeyGroups): void {
  // The next backslash at or after `start`, searched for again only once passed: one scan in all.
  let backslash = -1
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    if (backslash < start) {
      const found = text.indexOf('\\', start)
      backslash = found < 0 ? Number.POSITIVE_INFINITY : found
    }
    const added =
      end === start ||
      (backslash < end
        ? addParsedLine(text.slice(start, end), groups)
        : addPlainLine(text, start, end, groups) || addParsedLine(text.slice(start, end), groups))
    if (!added) {
      const line = text.slice(start, Math.min(end, start + 80))
      throw new MapReduceError('ERR_MR_BAD_INTERMEDIATE', `intermediate file ${fileName} is malformed at character ${start}: ${line}`)
    }
    start = end + 1
  }
}

/** `["KEY","VALUE"]` with no backslash and no quote inside KEY or VALUE: added, and true; anything else, false. */
function addPlainLine(text: string, start: number, end: number, groups: KeyGroups): boolean {
  if (!text.startsWith('["', start) || !text.startsWith('"]', end - 2)) return false
  const keyEnd = text.indexOf('"', start + 2)
  if (keyEnd < 0 || !text.startsWith('","', keyEnd)) return false
  const valueStart = keyEnd + 3
  if (valueStart > end - 2 || text.indexOf('"', valueStart) !== end - 2) return false
  groups.add(text.slice(start + 2, keyEnd), text.slice(valueStart, end - 2))
  return true
}

/** Any other line, through JSON.parse: added, and true if it is a [key, value] pair of strings. */
function addParsedLine(line: string, groups: KeyGroups): boolean {
  let pair: unknown
  try {
    pair = JSON.parse(line)
  } catch {
    // Not JSON: the caller reports the line as malformed, with the file's name.
    return false
  }
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return false
  groups.add(pair[0], pair[1])
  return true
}
