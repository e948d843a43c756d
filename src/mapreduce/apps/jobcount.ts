// The lab's job-count probe: every map invocation leaves a file behind, and reduce counts them, so
// the output shows how many map calls the job made (the number of inputs, if none was re-run).

import { readdirSync, writeFileSync } from 'node:fs'
import type { KeyValue } from '../types.js'
import { blockFor } from './lab-support.js'

let calls = 0

export function map(): KeyValue[] {
  writeFileSync(`mr-worker-jobcount-${process.pid}-${calls}`, 'x')
  calls++
  blockFor(2000 + Math.floor(Math.random() * 3000))
  return [{ key: 'a', value: 'x' }]
}

export function reduce(): string {
  return String(readdirSync('.').filter((name) => name.startsWith('mr-worker-jobcount')).length)
}
