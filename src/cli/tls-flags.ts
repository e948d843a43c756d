// The TLS flags every lograft server and client command takes (--tls-cert, --tls-key and --tls-ca,
// all three or none; a node's certificate names its node id in the subject CN), and the flags that
// secure a RESP endpoint (--requirepass or --requirepass-file, --resp-tls).

import { readFile } from 'node:fs/promises'
import type { RespSecurityOptions } from '../node/resp-endpoint.js'
import { type TlsConfig, loadTlsFiles } from '../rpc/tls.js'
import { UsageError } from './usage.js'

export const TLS_FLAG_OPTIONS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
} as const

export const TLS_USAGE = '[--tls-cert FILE --tls-key FILE --tls-ca FILE]'

/** The loaded files, or undefined for plain TCP; a partial set is a usage error. */
export async function tlsFromFlags(values: {
  'tls-cert'?: string | undefined
  'tls-key'?: string | undefined
  'tls-ca'?: string | undefined
}): Promise<TlsConfig | undefined> {
  const certFile = values['tls-cert']
  const keyFile = values['tls-key']
  const caFile = values['tls-ca']
  if (certFile === undefined && keyFile === undefined && caFile === undefined) return undefined
  if (certFile === undefined || keyFile === undefined || caFile === undefined) {
    throw new UsageError('TLS needs all of --tls-cert, --tls-key and --tls-ca')
  }
  return loadTlsFiles({ certFile, keyFile, caFile })
}

/** The same flags, to pass on to a child process. */
export function tlsArgs(files: { certFile: string; keyFile: string; caFile: string } | undefined): string[] {
  return files ? ['--tls-cert', files.certFile, '--tls-key', files.keyFile, '--tls-ca', files.caFile] : []
}

export const RESP_SECURITY_FLAG_OPTIONS = {
  requirepass: { type: 'string' },
  'requirepass-file': { type: 'string' },
  'resp-tls': { type: 'string' },
} as const

export const RESP_SECURITY_USAGE = '[--requirepass PASSWORD | --requirepass-file FILE] [--resp-tls optional|required]'

/** The RESP password (from the flag or the first line of a file) and TLS policy. */
export async function respSecurityFromFlags(values: {
  requirepass?: string | undefined
  'requirepass-file'?: string | undefined
  'resp-tls'?: string | undefined
}): Promise<RespSecurityOptions> {
  if (values.requirepass !== undefined && values['requirepass-file'] !== undefined) {
    throw new UsageError('give --requirepass or --requirepass-file, not both')
  }
  let requirePass = values.requirepass
  const passwordFile = values['requirepass-file']
  if (passwordFile !== undefined) {
    try {
      requirePass = (await readFile(passwordFile, 'utf8')).split(/\r?\n/)[0]
    } catch (error) {
      throw new UsageError(`cannot read --requirepass-file ${passwordFile}: ${(error as Error).message}`)
    }
  }
  if (requirePass === '') throw new UsageError('the RESP password is empty')
  const respTls = values['resp-tls']
  if (respTls !== undefined && respTls !== 'optional' && respTls !== 'required') {
    throw new UsageError(`--resp-tls must be optional or required (client certificates), got "${respTls}"`)
  }
  return { ...(requirePass === undefined ? {} : { requirePass }), ...(respTls === undefined ? {} : { respTls }) }
}
