// The word-count benchmark's corpora and their check. Both are made from the Gutenberg fixtures in
// a temporary directory, at least the bytes asked for, in two shapes: shelves (eight big files,
// each every book end to end, several times over: a job maps them in pieces) and books (the books
// copied until there are enough, as issue 16 measured them: hundreds of small files, which a job
// packs into a few map tasks). Each tool's output is compared with the coreutils count, so no row
// is faster by counting otherwise.

import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BOOKS_DIRECTORY = fileURLToPath(new URL('../../fixtures/gutenberg/', import.meta.url))
const SHELVES = 8

export type CorpusShape = 'shelves' | 'books'

export interface Corpus {
  readonly shape: CorpusShape
  readonly directory: string
  /** File names in `directory`, sorted. */
  readonly files: readonly string[]
  readonly bytes: number
  /** True if every byte is ASCII: then `tr '[:alpha:]'` under LC_ALL=C splits words as \p{L}+ does. */
  readonly ascii: boolean
}

/** A new temporary directory holding at least `minBytes` of the books, in the given shape. */
export function makeCorpus(shape: CorpusShape, minBytes: number): Corpus {
  const books = readdirSync(BOOKS_DIRECTORY)
    .filter((name) => name.endsWith('.txt'))
    .sort()
    .map((name) => join(BOOKS_DIRECTORY, name))
  const booksBytes = books.reduce((sum, book) => sum + statSync(book).size, 0)
  const ascii = books.every((book) => readFileSync(book).every((byte) => byte < 0x80))
  const directory = mkdtempSync(join(tmpdir(), `lograft-bench-mr-${shape}-`))
  const copies = Math.ceil(minBytes / booksBytes)
  const files: string[] = []
  if (shape === 'shelves') {
    for (let shelf = 0; shelf < SHELVES; shelf++) {
      const name = `shelf-${shelf}.txt`
      for (let copy = 0; copy < Math.ceil(copies / SHELVES); copy++) for (const book of books) appendFileSync(join(directory, name), readFileSync(book))
      files.push(name)
    }
  } else {
    for (let copy = 0; copy < copies; copy++) {
      for (const book of books) {
        const name = `${book.slice(BOOKS_DIRECTORY.length).replace(/\.txt$/, '')}-${String(copy).padStart(3, '0')}.txt`
        copyFileSync(book, join(directory, name))
        files.push(name)
      }
    }
  }
  const bytes = files.reduce((sum, file) => sum + statSync(join(directory, file)).size, 0)
  return { shape, directory, files: files.sort(), bytes, ascii }
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
