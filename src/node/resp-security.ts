// How a replica's RESP endpoint is secured: a password (Redis's requirepass) and TLS with the
// node's own certificate, client certificates optional or required. Shared by the KV node and the
// shard group node.

import type { RespServerOptions } from '../resp/server.js'
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

/** The RespServer options for `security`, given the node's TLS files. */
export function respSecurity(security: RespSecurityOptions, tls: TlsConfig | undefined): Pick<RespServerOptions, 'requirePass' | 'tls'> {
  if (security.respTls !== undefined && !tls) throw new RespSecurityError("RESP over TLS needs the node's TLS certificate, key and CA")
  return {
    ...(security.requirePass === undefined ? {} : { requirePass: security.requirePass }),
    ...(security.respTls && tls ? { tls: { config: tls, clientCertificate: security.respTls } } : {}),
  }
}
