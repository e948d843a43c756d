// The HTTP port a node serves for monitoring: /metrics (Prometheus text format), /healthz (alive)
// and /readyz (ready for traffic, with reasons), each answering GET only. It reads nothing from
// the request but its method and path, and Node's own limits bound the headers and their time.

import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { Logger } from '../base/logger.js'
import type { Readiness } from './readiness.js'

/** What the monitoring port answers from. */
export interface MonitoringSources {
  registry: Registry
  /** Alive: the process runs and its node has not failed. */
  alive: () => boolean
  /** Ready for traffic, with the reasons when not. */
  readiness: () => Readiness
}

/** A running monitoring port. */
export interface MonitoringEndpoint {
  /** The port it listens on (useful when 0 was asked for). */
  readonly port: number
  /** Stops listening and drops open connections. */
  close(): Promise<void>
}

const MAX_CONNECTIONS = 64
const REQUEST_TIMEOUT_MS = 10_000

/** Listens on "host:port" and serves /metrics, /healthz and /readyz from `sources`. */
export async function startMonitoringEndpoint(address: string, sources: MonitoringSources, logger: Logger): Promise<MonitoringEndpoint> {
  const separator = address.lastIndexOf(':')
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '')
  const port = Number(address.slice(separator + 1))
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS }, (request, response) => {
    answer(request, response, sources).catch((error: unknown) => {
      logger.warn('monitoring request failed', { path: request.url, reason: String(error) })
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
      response.end('internal error\n')
    })
  })
  server.maxConnections = MAX_CONNECTIONS
  server.keepAliveTimeout = 5000
  await listen(server, host, port)
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function answer(request: IncomingMessage, response: ServerResponse, sources: MonitoringSources): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n')
    return
  }
  switch (path) {
    case '/metrics': {
      const text = await sources.registry.metrics()
      response.writeHead(200, { 'content-type': sources.registry.contentType }).end(text)
      return
    }
    case '/healthz': {
      const alive = sources.alive()
      json(response, alive ? 200 : 503, { alive })
      return
    }
    case '/readyz': {
      const readiness = sources.readiness()
      json(response, readiness.ready ? 200 : 503, readiness)
      return
    }
    default:
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n')
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`)
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
