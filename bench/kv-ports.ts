// Loopback port ranges for the benchmark's clusters. The layouts want consecutive ports (node i
// on base+i), and other sessions on this machine may hold the fixed defaults, so a base is chosen
// at random and kept only if every port above it could be bound a moment ago.

import net from 'node:net'

const HOST = '127.0.0.1'
const LOWEST_BASE_PORT = 20_000
const HIGHEST_BASE_PORT = 60_000
const MAX_ATTEMPTS = 50

export class NoFreePortsError extends Error {
  readonly code = 'ERR_NO_FREE_PORTS'
}

/** A base such that base+1..base+count were all free on 127.0.0.1. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const base = LOWEST_BASE_PORT + Math.floor(Math.random() * (HIGHEST_BASE_PORT - LOWEST_BASE_PORT))
    const ports = Array.from({ length: count }, (_, i) => base + i + 1)
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base
  }
  throw new NoFreePortsError(`found no ${count} consecutive free ports on ${HOST} in ${MAX_ATTEMPTS} attempts`)
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}
