// Word count: each word with the number of times it occurs across all the inputs.

import type { MapContext } from '../types.js'
import { forEachWord } from './words.js'

/** Emits (word, "1") for every word, as the lab's wc returns them, without an object per word. */
export function map(_filename: string, contents: string, context: MapContext): void {
  forEachWord(contents, (word) => context.emit(word, '1'))
}

export function reduce(_key: string, values: string[]): string {
  return String(sum(values))
}

/** Partial counts fold into one: the sum is what reduce would count. */
export function combine(_key: string, values: string[]): string {
  return String(sum(values))
}

function sum(values: readonly string[]): number {
  let total = 0
  // Values come in runs of one string (all "1" from map): each distinct one is parsed once.
  let last = ''
  let lastNumber = 0
  for (const value of values) {
    if (value !== last) {
      last = value
      lastNumber = Number(value)
    }
    total += lastNumber
  }
  return total
}
