// Inverted index: each word with the number of documents it occurs in and their names, sorted.

import type { KeyValue } from '../types.js'
import { words } from './words.js'

export function map(document: string, contents: string): KeyValue[] {
  return [...new Set(words(contents))].map((word) => ({ key: word, value: document }))
}

export function reduce(_key: string, values: string[]): string {
  const documents = [...values].sort()
  return `${documents.length} ${documents.join(',')}`
}
