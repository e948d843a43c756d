// Words as the lab's apps split them: maximal runs of Unicode letters (Go's unicode.IsLetter).

const WORD = /\p{L}+/gu

export function words(text: string): string[] {
  return text.match(WORD) ?? []
}
