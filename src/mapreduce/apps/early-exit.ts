// The lab's early-exit probe: the reduces of two keys take three seconds, so a coordinator or
// worker that exits before every output is final is caught with a partial output.

import type { KeyValue } from '../types.js'
import { blockFor } from './lab-support.js'

export function map(filename: string): KeyValue[] {
  return [{ key: filename, value: '1' }]
}

export function reduce(key: string, values: string[]): string {
  if (key.includes('sherlock') || key.includes('tom')) blockFor(3000)
  return String(values.length)
}
