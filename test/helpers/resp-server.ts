// A RespServer on 127.0.0.1 over a MapKvBackend for the RESP tests, closed with its clients when
// the test ends, and a bound on how long a test waits for something the server should do.

import type { Test } from 'tap'
import { RespClient } from '../../src/resp/client.js'
import { RespServer, type RespServerOptions } from '../../src/resp/server.js'
import { sleep, systemClock } from '../../src/base/clock.js'
import { type LoggedEvent, MemoryLogger } from '../../src/base/logger.js'
import { MapKvBackend, type MapKvBackendHooks } from './map-kv-backend.js'

export interface RunningServer {
  readonly port: number
  readonly server: RespServer
  readonly backend: MapKvBackend
  readonly logger: MemoryLogger
  connect(): Promise<RespClient>
}

export async function startServer(t: Test, options: Partial<RespServerOptions> = {}, hooks: MapKvBackendHooks = {}): Promise<RunningServer> {
  const backend = new MapKvBackend(hooks)
  const logger = new MemoryLogger()
  const server = new RespServer({ host: '127.0.0.1', port: 0, backend, logger, ...options })
  const { port } = await server.listen()
  t.teardown(() => server.close())
  return {
    port,
    server,
    backend,
    logger,
    connect: async () => {
      const client = await RespClient.connect(port)
      t.teardown(() => client.close())
      return client
    },
  }
}

/** `promise`, or a rejection naming `what` if it has not settled within `timeoutMs`. */
export function within<T>(timeoutMs: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The first event logged with `message`, once there is one (polled: the logger is a plain array). */
export async function logged(logger: MemoryLogger, message: string): Promise<LoggedEvent> {
  for (;;) {
    const event = logger.events.find((candidate) => candidate.message === message)
    if (event) return event
    await sleep(systemClock, 10)
  }
}
