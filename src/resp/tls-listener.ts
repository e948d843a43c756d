// The RESP endpoint over TLS: a node:tls server from the node's PEM files (src/rpc/tls.ts), with a
// handshake timeout, and the client-certificate policy applied once the handshake is done, so that
// every refused client is logged with its address and the reason.

import type net from 'node:net'
import tls from 'node:tls'
import { type TlsConfig, tlsServerOptions } from '../rpc/tls.js'
import type { Logger } from '../base/logger.js'

/** TLS for the endpoint, from the same PEM files as the node's other listeners. */
export interface RespTlsOptions {
  /** The endpoint's certificate and key, and the CA that client certificates must chain to. */
  readonly config: TlsConfig
  /**
   * 'required': every client presents a certificate from the CA. 'optional': a client may present
   * none (and authenticate with requirePass instead), but one it presents must be from the CA.
   */
  readonly clientCertificate: 'required' | 'optional'
}

export interface TlsListenerOptions {
  readonly tls: RespTlsOptions
  /** A client that has not completed its handshake by then is disconnected (and logged). */
  readonly handshakeTimeoutMs: number
  readonly logger: Logger
  /** Called with each TCP connection before its handshake; it destroys the ones it refuses. */
  admit(socket: net.Socket): void
  /** Called with each connection whose handshake is done; it applies tlsRefusal. */
  accept(socket: tls.TLSSocket): void
}

export function createTlsListener(options: TlsListenerOptions): tls.Server {
  // Certificates are verified during the handshake but judged after it ('optional' to node:tls):
  // node would otherwise drop a client with an untrusted certificate without a word in the log.
  const server = tls.createServer({ ...tlsServerOptions(options.tls.config, 'optional'), handshakeTimeout: options.handshakeTimeoutMs }, (socket) =>
    options.accept(socket),
  )
  server.on('connection', (socket: net.Socket) => options.admit(socket))
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => {
    // A client that aborts the handshake itself (e.g. it does not trust this certificate) is
    // reported by node after the socket has gone, when its address can no longer be read.
    const remote = socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`
    options.logger.warn('TLS handshake failed', { remote, code: error.code, reason: handshakeFailure(error) })
    // node:tls reports a handshake timeout without ending the connection.
    socket.destroy()
  })
  return server
}

/** OpenSSL's short reason ("tlsv1 alert unknown ca") rather than its whole error line, when there is one. */
function handshakeFailure(error: Error): string {
  const reason: unknown = 'reason' in error ? error.reason : undefined
  return typeof reason === 'string' ? reason : (error.message.split('\n')[0] ?? '')
}

/** Why a client whose handshake is done is refused under `policy`, or null when it is accepted. */
export function tlsRefusal(socket: tls.TLSSocket, policy: RespTlsOptions['clientCertificate']): string | null {
  if (socket.authorized) return null
  const presented = Object.keys(socket.getPeerCertificate()).length > 0
  if (!presented) return policy === 'required' ? 'no client certificate' : null
  return `client certificate not trusted (${String(socket.authorizationError)})`
}
