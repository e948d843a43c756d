// The incoming side of the TCP transport: listens (plain TCP or mutual TLS), bounds the number of
// connections, and hands each accepted socket to an InboundConnection, which does the handshake
// and serves requests.

import net from 'node:net'
import tls from 'node:tls'
import type { Clock } from '../base/clock.js'
import type { Logger } from '../base/logger.js'
import { RpcError } from './errors.js'
import type { HandshakeRules } from './handshake.js'
import { InboundConnection, PeerConnections } from './tcp-inbound.js'
import { type PeerAddress, formatAddress } from './address.js'
import { type TlsConfig, tlsServerOptions } from './tls.js'
import type { HandlerTable } from './transport.js'

export interface TcpServerOptions {
  handlers: HandlerTable
  rules: HandshakeRules
  logger: Logger
  clock: Clock
  /** Mutual TLS: clients must present a certificate from the CA. Null: plain TCP. */
  tls: TlsConfig | null
  maxFrameBytes: number
  /** Requests handled at once per connection; beyond it requests are refused as OVERLOADED. */
  maxConcurrentRequests: number
  /** Connections open at once; more are closed as they arrive (logged). */
  maxConnections: number
  handshakeTimeoutMs: number
  idleTimeoutMs: number
  /** How long a peer's connection must have been quiet before a new process claiming its id may replace it. */
  peerQuietMs: number
}

export class TcpServer {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()
  private readonly peers: PeerConnections

  constructor(private readonly options: TcpServerOptions) {
    this.peers = new PeerConnections(options.clock, options.peerQuietMs)
    if (options.tls) {
      const server = tls.createServer({ ...tlsServerOptions(options.tls), handshakeTimeout: options.handshakeTimeoutMs }, (socket) => this.accept(socket))
      server.on('tlsClientError', (error, socket) => {
        options.logger.warn('refused a TLS connection', { remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: error.message })
      })
      this.server = server
    } else {
      this.server = net.createServer((socket) => this.accept(socket))
    }
    // Counted before TLS, so a flood of half-open handshakes is bounded too.
    this.server.maxConnections = options.maxConnections
    this.server.on('drop', (data) =>
      options.logger.warn('refused a connection: too many open', { remote: data?.remoteAddress, maxConnections: options.maxConnections }),
    )
  }

  /** Resolves with the bound address, or rejects (e.g. EADDRINUSE) with a clear message. */
  listen(address: PeerAddress): Promise<PeerAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const inUse = address.path === undefined ? 'the port is already in use' : 'the socket file exists (remove it if nothing serves there)'
        const reason = error.code === 'EADDRINUSE' ? inUse : error.message
        reject(new RpcError('UNREACHABLE', `cannot listen on ${formatAddress(address)}: ${reason}`))
      }
      this.server.once('error', onError)
      const onListening = (): void => {
        this.server.off('error', onError)
        const bound = this.server.address()
        resolve(typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : address)
      }
      if (address.path === undefined) this.server.listen(address.port, address.host, onListening)
      else this.server.listen(address.path, onListening)
    })
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => {
      if (!this.server.listening) resolve()
      else this.server.close(() => resolve())
    })
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.setNoDelay(true)
    const { options } = this
    new InboundConnection(socket, {
      handlers: options.handlers,
      rules: options.rules,
      peers: this.peers,
      logger: options.logger,
      clock: options.clock,
      maxFrameBytes: options.maxFrameBytes,
      maxConcurrentRequests: options.maxConcurrentRequests,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
    })
  }
}
