// The lab's nocrash app: the crash app without the crashes, whose output the crash test expects.

import type { KeyValue } from '../types.js'

export function map(filename: string, contents: string): KeyValue[] {
  return [
    { key: 'a', value: filename },
    { key: 'b', value: String(filename.length) },
    { key: 'c', value: String(contents.length) },
    { key: 'd', value: 'xyzzy' },
  ]
}

export function reduce(_key: string, values: string[]): string {
  return [...values].sort().join(' ')
}
