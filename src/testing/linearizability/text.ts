// Short, unambiguous renderings of values for descriptions and reports.

/** Values longer than this are cut in descriptions: a report line should fit on a screen. */
export const MAX_QUOTED_CHARS = 40

/** `text` as a JSON string literal, cut to `maxChars` characters with its full length noted. */
export function quote(text: string, maxChars = MAX_QUOTED_CHARS): string {
  if (text.length <= maxChars) return JSON.stringify(text)
  return `${JSON.stringify(text.slice(0, maxChars)).slice(0, -1)}…" (${text.length} chars)`
}

/** Milliseconds without trailing zeros, at most three decimals; '∞' for an unknown return. */
export function formatMs(ms: number): string {
  return ms === Infinity ? '∞' : String(Math.round(ms * 1000) / 1000)
}
