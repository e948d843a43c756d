// The word-count benchmark's corpus and its check: the Gutenberg fixtures copied into a temporary
// directory until it holds at least the bytes asked for (book-sized files, so a job has hundreds
// of map tasks, as the fixtures copied a dozen times had in issue 16), and a comparison of each
// tool's output with the coreutils count, so no row of the table is faster by counting otherwise.

import { copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BOOKS_DIRECTORY = fileURLToPath(new URL('../../fixtures/gutenberg/', import.meta.url))

export interface Corpus {
  readonly directory: string
  /** File names in `directory`, sorted. */
  readonly files: readonly string[]
  readonly bytes: number
  /** True if every byte is ASCII: then `tr '[:alpha:]'` under LC_ALL=C splits words as \p{L}+ does. */
  readonly ascii: boolean
}

/** Copies the books, round after round, into a new temporary directory until it holds `minBytes`. */
export function makeCorpus(minBytes: number): Corpus {
  const books = readdirSync(BOOKS_DIRECTORY)
    .filter((name) => name.endsWith('.txt'))
    .sort()
  const directory = mkdtempSync(join(tmpdir(), 'lograft-bench-mr-corpus-'))
  const files: string[] = []
  let bytes = 0
  let ascii = true
  for (let copy = 0; bytes < minBytes; copy++) {
    for (const book of books) {
      const name = `${book.replace(/\.txt$/, '')}-${String(copy).padStart(3, '0')}.txt`
      copyFileSync(join(BOOKS_DIRECTORY, book), join(directory, name))
      files.push(name)
      bytes += statSync(join(directory, name)).size
    }
    if (copy === 0) ascii = books.every((book) => readFileSync(join(BOOKS_DIRECTORY, book)).every((byte) => byte < 0x80))
  }
  return { directory, files: files.sort(), bytes, ascii }
}

/** Word → count from `uniq -c` output ("  COUNT WORD"); the empty word (text that starts with a non-letter) is left out. */
export function parseUniqCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+) (.+)$/.exec(line)
    if (match) counts.set(match[2] as string, Number(match[1]))
  }
  return counts
}

/** Word → count from mr-out files ("WORD COUNT" lines). */
export function parseMrCounts(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const space = line.lastIndexOf(' ')
      if (space > 0) counts.set(line.slice(0, space), Number(line.slice(space + 1)))
    }
  }
  return counts
}

/** The first difference between two counts, or null if they are equal. */
export function firstDifference(expected: ReadonlyMap<string, number>, actual: ReadonlyMap<string, number>): string | null {
  if (expected.size !== actual.size) return `${actual.size} distinct words instead of ${expected.size}`
  for (const [word, count] of expected) {
    if (actual.get(word) !== count) return `"${word}" counted ${actual.get(word) ?? 'never'} times instead of ${count}`
  }
  return null
}
