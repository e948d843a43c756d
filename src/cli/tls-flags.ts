// The TLS flags every lograft server and client command takes: --tls-cert, --tls-key and --tls-ca,
// all three or none. A node's certificate names its node id in the subject CN.

import { type TlsConfig, loadTlsFiles } from '../rpc/tls.js'
import { UsageError } from './usage.js'

export const TLS_FLAG_OPTIONS = {
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
} as const

export const TLS_USAGE = '[--tls-cert FILE --tls-key FILE --tls-ca FILE]'

/** The loaded files, or undefined for plain TCP; a partial set is a usage error. */
export async function tlsFromFlags(values: { 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined; 'tls-ca'?: string | undefined }): Promise<TlsConfig | undefined> {
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
