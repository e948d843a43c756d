// A throwaway certificate authority for tests, demos and first deployments: a CA and one
// certificate per name, made with the openssl command line (node:crypto cannot issue X.509
// certificates). lograft reads a node's id from its certificate's subject CN, so each certificate's
// CN is the name it is made for; each also names localhost and 127.0.0.1 so plain hostname checks pass.

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** A certificate and its private key, as files. */
export interface IssuedCertificate {
  /** The certificate, PEM. */
  readonly certFile: string
  /** Its private key, PEM, unencrypted. */
  readonly keyFile: string
}

/** What createTestPki made: the CA's files and one certificate per name. */
export interface TestPki {
  /** The CA certificate, PEM: what every node and client trusts. */
  readonly caFile: string
  /** The CA's private key, PEM, for issueCertificate. */
  readonly caKeyFile: string
  /** By the name each was made for. */
  readonly certificates: Readonly<Record<string, IssuedCertificate>>
}

/** How createTestPki makes its CA and certificates. */
export interface TestPkiOptions {
  /** The CA's subject CN; two CAs with different names do not trust each other's certificates. */
  caName?: string
  /** Validity of every certificate. Default 825 days. */
  days?: number
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/**
 * Makes `directory`/ca.crt and, for each name, `name`.crt and `name`.key signed by that CA.
 * Needs the `openssl` command; rejects with its error if it is missing or fails.
 */
export async function createTestPki(directory: string, names: readonly string[], options: TestPkiOptions = {}): Promise<TestPki> {
  await mkdir(directory, { recursive: true })
  const days = String(options.days ?? 825)
  const caFile = join(directory, 'ca.crt')
  const caKeyFile = join(directory, 'ca.key')
  const caName = options.caName ?? 'lograft test CA'
  await run('openssl', ['req', '-x509', ...EC_KEY, '-keyout', caKeyFile, '-out', caFile, '-subj', `/CN=${caName}`, '-days', days])
  const certificates: Record<string, IssuedCertificate> = {}
  for (const name of names) certificates[name] = await issueCertificate(directory, { caFile, caKeyFile }, name, days)
  return { caFile, caKeyFile, certificates }
}

/** Issues one more certificate with subject CN `name` from an existing CA. */
export async function issueCertificate(directory: string, ca: { caFile: string; caKeyFile: string }, name: string, days = '825'): Promise<IssuedCertificate> {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_')
  const keyFile = join(directory, `${safe}.key`)
  const requestFile = join(directory, `${safe}.csr`)
  const certFile = join(directory, `${safe}.crt`)
  const extensionsFile = join(directory, `${safe}.ext`)
  await writeFile(extensionsFile, 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth,clientAuth\n')
  await run('openssl', ['req', ...EC_KEY, '-keyout', keyFile, '-out', requestFile, '-subj', `/CN=${name}`])
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    requestFile,
    '-CA',
    ca.caFile,
    '-CAkey',
    ca.caKeyFile,
    '-set_serial',
    randomSerial(),
    '-out',
    certFile,
    '-days',
    days,
    '-extfile',
    extensionsFile,
  ])
  return { certFile, keyFile }
}

/**
 * A fresh serial number for one certificate: 127 random bits, positive, as RFC 5280 asks (at most
 * 20 octets, unpredictable). A shared serial file (-CAcreateserial) is read and rewritten by each
 * openssl run, so certificates issued at once from one CA could read it half-written and fail.
 */
function randomSerial(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f
  return `0x${bytes.toString('hex')}`
}
