// Mutual TLS for every lograft listener and dialer, on node:tls. A node's identity is the subject
// CN of its certificate: a peer is accepted only if its certificate chains to the configured CA
// and its CN is the node id it claims in the handshake. The same files configure the peer
// transport, the client RPC port, the shard services, MapReduce and the RESP endpoint.

import { readFile } from 'node:fs/promises'
import type { PeerCertificate, TLSSocket } from 'node:tls'

/** PEM files, as given on the command line (`--tls-cert --tls-key --tls-ca`). */
export interface TlsFiles {
  readonly certFile: string
  readonly keyFile: string
  readonly caFile: string
}

/** The loaded certificate, key and trusted CA, ready for node:tls. */
export interface TlsConfig {
  readonly cert: Buffer
  readonly key: Buffer
  readonly ca: Buffer
}

/** Thrown by {@link loadTlsFiles} when a certificate, key or CA file cannot be read. */
export class TlsConfigError extends Error {
  readonly code = 'ERR_TLS_CONFIG'
}

/** Reads the three PEM files, naming the one that cannot be read. */
export async function loadTlsFiles(files: TlsFiles): Promise<TlsConfig> {
  const read = async (what: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path)
    } catch (error) {
      throw new TlsConfigError(`cannot read the TLS ${what} ${path}: ${(error as Error).message}`)
    }
  }
  return { cert: await read('certificate', files.certFile), key: await read('key', files.keyFile), ca: await read('CA', files.caFile) }
}

/**
 * The options for tls.createServer: clients must present a certificate from the CA unless
 * `clientCertificate` is 'optional' (the RESP endpoint, where redis-cli may come with a password instead).
 */
export function tlsServerOptions(config: TlsConfig, clientCertificate: 'required' | 'optional' = 'required') {
  return {
    cert: config.cert,
    key: config.key,
    ca: config.ca,
    requestCert: true,
    rejectUnauthorized: clientCertificate === 'required',
    minVersion: 'TLSv1.2' as const,
  }
}

/**
 * The options for tls.connect. The server's identity is checked against the node id expected
 * (`expectedName`, its certificate CN) rather than a hostname: lograft nodes are named by id.
 */
export function tlsClientOptions(config: TlsConfig, expectedName: string | null) {
  return {
    cert: config.cert,
    key: config.key,
    ca: config.ca,
    minVersion: 'TLSv1.2' as const,
    checkServerIdentity: (_host: string, certificate: PeerCertificate): Error | undefined => {
      if (expectedName === null) return undefined
      const name = certificateName(certificate)
      return name === expectedName ? undefined : new Error(`the server's certificate names "${name ?? ''}", not "${expectedName}"`)
    },
  }
}

/** The subject CN of a certificate, the name lograft identifies its holder by. */
export function certificateName(certificate: PeerCertificate | null | undefined): string | null {
  const cn = certificate?.subject?.CN
  if (typeof cn === 'string' && cn !== '') return cn
  if (Array.isArray(cn) && typeof cn[0] === 'string') return cn[0]
  return null
}

/** The verified name of the peer on an authorized TLS socket, or null when it showed no valid certificate. */
export function verifiedPeerName(socket: TLSSocket): string | null {
  if (!socket.authorized) return null
  return certificateName(socket.getPeerCertificate())
}
