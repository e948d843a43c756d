// The lab's crash app: nocrash, except that a third of map and reduce calls kill the worker
// process and another third hang it for up to ten seconds.

import type { KeyValue } from '../types.js'
import { blockFor } from './lab-support.js'
import * as nocrash from './nocrash.js'

const MAX_HANG_MS = 10_000

function maybeCrash(): void {
  const roll = Math.random()
  if (roll < 0.33) process.exit(1)
  else if (roll < 0.66) blockFor(Math.floor(Math.random() * MAX_HANG_MS))
}

export function map(filename: string, contents: string): KeyValue[] {
  maybeCrash()
  return nocrash.map(filename, contents)
}

export function reduce(key: string, values: string[]): string {
  maybeCrash()
  return nocrash.reduce(key, values)
}
