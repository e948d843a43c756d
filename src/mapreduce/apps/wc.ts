// Word count: each word with the number of times it occurs across all the inputs.

import type { KeyValue } from '../types.js'
import { words } from './words.js'

export function map(_filename: string, contents: string): KeyValue[] {
  return words(contents).map((word) => ({ key: word, value: '1' }))
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
  for (const value of values) total += Number(value)
  return total
}
