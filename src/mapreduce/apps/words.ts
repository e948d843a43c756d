// Words as the lab's apps split them: maximal runs of Unicode letters (Go's unicode.IsLetter), the
// same words as /\p{L}+/gu finds. A scan by character code instead of the regular expression:
// String.prototype.match builds every match through the slow path of a global Unicode regex, which
// took a quarter of the word count's time, and a callback per word spares the array of them.

const LETTER = /^\p{L}$/u
/** ASCII letters by code: most text is ASCII, and a table lookup is the cheapest test. */
const ASCII_LETTER = new Uint8Array(128).map((_, code) => ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) ? 1 : 0))

/** Calls `visit` with each word of `text`, in order. */
export function forEachWord(text: string, visit: (word: string) => void): void {
  let start = -1
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    let width = 1
    let letter: boolean
    if (code < 0x80) {
      letter = ASCII_LETTER[code] === 1
    } else {
      // A letter outside the BMP is a surrogate pair: test the whole code point, and step over both halves.
      const point = text.codePointAt(i) as number
      width = point > 0xffff ? 2 : 1
      letter = LETTER.test(String.fromCodePoint(point))
    }
    if (letter) {
      if (start < 0) start = i
    } else if (start >= 0) {
      visit(text.slice(start, i))
      start = -1
    }
    i += width - 1
  }
  if (start >= 0) visit(text.slice(start))
}

export function words(text: string): string[] {
  const found: string[] = []
  forEachWord(text, (word) => found.push(word))
  return found
}
