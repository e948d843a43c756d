// Free loopback ports for local clusters in tests: a block of consecutive ports that could all be
// bound a moment ago, below Linux's ephemeral range (32768–60999), where an outgoing connection
// could otherwise take one between the probe and a node's (re)start.
//
// A probe cannot reserve what it finds: two test files running at once could both find the same
// block free and both start a cluster on it. tap runs each file in a numbered job slot
// (TAP_JOB_ID, 0 to --jobs minus 1), and files in different slots run at the same time, so each
// slot draws its blocks from a slice of the range of its own.

import net from 'node:net'

const LOWEST_BASE_PORT = 20_000
const HIGHEST_BASE_PORT = 32_000
/** The range is cut in this many slices, one per tap job slot (slots beyond it share, modulo). */
const SLICES = 6
const MAX_ATTEMPTS = 50

/** freePortBlock found no block of free ports in its attempts. */
export class NoFreePortsError extends Error {
  readonly code = 'ERR_NO_FREE_PORTS'
}

function isFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

/**
 * The base ports drawn from, [lowest, highest), by a process in tap job slot `jobId` (its
 * TAP_JOB_ID): that slot's slice of the range; with no slot (a benchmark, a script), all of it.
 */
export function basePortRange(jobId: string | undefined): { lowest: number; highest: number } {
  const slot = jobId === undefined || !/^\d+$/.test(jobId) ? null : Number(jobId) % SLICES
  if (slot === null) return { lowest: LOWEST_BASE_PORT, highest: HIGHEST_BASE_PORT }
  const width = Math.floor((HIGHEST_BASE_PORT - LOWEST_BASE_PORT) / SLICES)
  return { lowest: LOWEST_BASE_PORT + slot * width, highest: LOWEST_BASE_PORT + (slot + 1) * width }
}

/**
 * A base such that base+1..base+count were all free on `host` a moment ago, and (under tap) no
 * test file running in another job slot draws from the ports it covers.
 */
export async function freePortBlock(count: number, host = '127.0.0.1'): Promise<number> {
  const { lowest, highest } = basePortRange(process.env.TAP_JOB_ID)
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const base = lowest + Math.floor(Math.random() * (highest - lowest - count))
    const ports = Array.from({ length: count }, (_, i) => base + i + 1)
    if ((await Promise.all(ports.map((port) => isFree(port, host)))).every(Boolean)) return base
  }
  throw new NoFreePortsError(`found no ${count} consecutive free ports on ${host} in ${MAX_ATTEMPTS} attempts`)
}
