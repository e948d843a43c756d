// Splits an inline command line (`SET "a b" 'c'` typed into telnet or nc) into arguments the way
// Redis's sdssplitargs does: whitespace separates, double quotes take C-like escapes, single quotes
// take only \'. Works on bytes, so arguments stay binary.

const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const VT = 0x0b
const FF = 0x0c
const CR = 0x0d
const NUL = 0x00
const DOUBLE_QUOTE = 0x22
const SINGLE_QUOTE = 0x27
const BACKSLASH = 0x5c
const LOWER_X = 0x78

const ESCAPES = new Map<number, number>([
  [0x6e, LF], // \n
  [0x72, CR], // \r
  [0x74, TAB], // \t
  [0x62, 0x08], // \b
  [0x61, 0x07], // \a
])

function isSpace(byte: number | undefined): boolean {
  return byte === SPACE || byte === TAB || byte === LF || byte === VT || byte === FF || byte === CR
}

function endsWord(byte: number | undefined): boolean {
  return byte === undefined || byte === SPACE || byte === LF || byte === CR || byte === TAB || byte === NUL
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10
  return -1
}

/** The arguments of `line`, or null when a quote is not closed (or is followed by a non-space). */
export function splitInlineArgs(line: Uint8Array): Buffer[] | null {
  const args: Buffer[] = []
  let at = 0
  for (;;) {
    while (isSpace(line[at])) at++
    if (at >= line.length) return args
    const word: number[] = []
    let quote: 'none' | 'double' | 'single' = 'none'
    for (let done = false; !done; at++) {
      const byte = line[at]
      const next = line[at + 1]
      if (quote === 'double') {
        if (byte === undefined) return null
        const high = hexValue(line[at + 2])
        const low = hexValue(line[at + 3])
        if (byte === BACKSLASH && next === LOWER_X && high >= 0 && low >= 0) {
          word.push(high * 16 + low)
          at += 3
        } else if (byte === BACKSLASH && next !== undefined) {
          word.push(ESCAPES.get(next) ?? next)
          at++
        } else if (byte === DOUBLE_QUOTE) {
          if (!endsWord(next)) return null
          done = true
        } else {
          word.push(byte)
        }
      } else if (quote === 'single') {
        if (byte === undefined) return null
        if (byte === BACKSLASH && next === SINGLE_QUOTE) {
          word.push(SINGLE_QUOTE)
          at++
        } else if (byte === SINGLE_QUOTE) {
          if (!endsWord(next)) return null
          done = true
        } else {
          word.push(byte)
        }
      } else if (byte === undefined || endsWord(byte)) {
        done = true
      } else if (byte === DOUBLE_QUOTE) {
        quote = 'double'
      } else if (byte === SINGLE_QUOTE) {
        quote = 'single'
      } else {
        word.push(byte)
      }
    }
    args.push(Buffer.from(word))
  }
}
