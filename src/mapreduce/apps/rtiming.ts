// The lab's reduce-parallelism probe: ten keys, and each reduce reports how many workers were
// running reduces at the same moment.

import type { KeyValue } from '../types.js'
import { nparallel } from './lab-support.js'

export function map(): KeyValue[] {
  return ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((key) => ({ key, value: '1' }))
}

export function reduce(): string {
  return String(nparallel('reduce'))
}
