// Free loopback ports for local clusters in tests: a block of consecutive ports that could all be
// bound a moment ago, below Linux's ephemeral range (32768–60999), where an outgoing connection
// could otherwise take one between the probe and a node's (re)start.

import net from 'node:net'

const LOWEST_BASE_PORT = 20_000
const HIGHEST_BASE_PORT = 32_000
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

/** A base such that base+1..base+count were all free on `host` a moment ago. */
export async function freePortBlock(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const base = LOWEST_BASE_PORT + Math.floor(Math.random() * (HIGHEST_BASE_PORT - LOWEST_BASE_PORT))
    const ports = Array.from({ length: count }, (_, i) => base + i + 1)
    if ((await Promise.all(ports.map((port) => isFree(port, host)))).every(Boolean)) return base
  }
  throw new NoFreePortsError(`found no ${count} consecutive free ports on ${host} in ${MAX_ATTEMPTS} attempts`)
}
