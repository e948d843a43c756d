// What the lab's test apps share: a sleep that blocks the whole worker, as time.Sleep blocks a Go
// worker's task, and the lab's way of counting workers that run the same phase at once.

import { readdirSync, rmSync, writeFileSync } from 'node:fs'

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Blocks this thread for `ms`: the worker does nothing else meanwhile, not even answer a timer. */
export function blockFor(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The lab's nparallel: announce this worker in a file `mr-worker-PHASE-PID` in the current
 * directory, count the live workers that announced the same phase, stay a second so others can
 * see this one, and take the announcement down again.
 */
export function nparallel(phase: 'map' | 'reduce'): number {
  const mine = `mr-worker-${phase}-${process.pid}`
  writeFileSync(mine, 'x')
  const pattern = new RegExp(`^mr-worker-${phase}-(\\d+)$`)
  let running = 0
  for (const name of readdirSync('.')) {
    const match = pattern.exec(name)
    if (match && isAlive(Number(match[1]))) running++
  }
  blockFor(1000)
  rmSync(mine, { force: true })
  return running
}
