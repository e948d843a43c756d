// A replica's RESP endpoint, started the one way the KV node and the shard group node both need:
// on its address, secured by a password (Redis's requirepass) and TLS with the node's own
// certificate, client certificates optional or required.

import { RespServer, type RespServerOptions } from '../resp/server.js'
import { parseAddress } from '../rpc/address.js'
import type { TlsConfig } from '../rpc/tls.js'

export interface RespSecurityOptions {
  /** Clients must AUTH with this before any other command (`-NOAUTH`). */
  requirePass?: string
  /** Serve RESP over TLS with the node's certificate (needs `tls`); client certificates optional or required. */
  respTls?: 'optional' | 'required'
}

export class RespSecurityError extends Error {
  readonly code = 'ERR_RESP_SECURITY'
}

/** A started RESP endpoint and the port it listens on. */
export interface RespEndpoint {
  readonly server: RespServer
  readonly port: number
}

/** Starts a RESP endpoint on `address` ("host:port") for `backend`, secured as `security` says. */
export async function startRespEndpoint(
  address: string,
  security: RespSecurityOptions,
  tls: TlsConfig | undefined,
  endpoint: Pick<RespServerOptions, 'backend' | 'logger' | 'maxValueBytes' | 'info'>,
): Promise<RespEndpoint> {
  const { host, port } = parseAddress(address)
  const server = new RespServer({ host, port, ...endpoint, ...respSecurity(security, tls) })
  return { server, port: (await server.listen()).port }
}

/** The RespServer options for `security`, given the node's TLS files. */
function respSecurity(security: RespSecurityOptions, tls: TlsConfig | undefined): Pick<RespServerOptions, 'requirePass' | 'tls'> {
  if (security.respTls !== undefined && !tls) throw new RespSecurityError("RESP over TLS needs the node's TLS certificate, key and CA")
  return {
    ...(security.requirePass === undefined ? {} : { requirePass: security.requirePass }),
    ...(security.respTls && tls ? { tls: { config: tls, clientCertificate: security.respTls } } : {}),
  }
}
