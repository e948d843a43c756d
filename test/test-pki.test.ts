// The throwaway CA tests and deployments use: certificates issued at once from one CA must all be
// issued, each with its own serial number, and each must verify against that CA.

import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { createTestPki, issueCertificate } from '../src/testing/pki.js'
import { makeTempDir } from './helpers/log.js'

t.test('certificates issued concurrently from one CA all succeed, with distinct serials, each signed by the CA', async (t) => {
  const directory = makeTempDir('pki')
  t.teardown(directory.remove)
  const ca = await createTestPki(directory.path, [])
  const names = Array.from({ length: 48 }, (_, index) => `client-${index}`)
  // Issued all at once, as the TLS conformance suite does when many clients start together.
  const issued = await Promise.all(names.map((name) => issueCertificate(directory.path, ca, name)))
  const authority = new X509Certificate(await readFile(ca.caFile))
  const serials = new Set<string>()
  for (const [index, certificate] of issued.entries()) {
    const x509 = new X509Certificate(await readFile(certificate.certFile))
    t.equal(x509.subject, `CN=${names[index]}`, `certificate ${index} names its holder`)
    t.ok(x509.verify(authority.publicKey), `certificate ${index} is signed by the CA`)
    serials.add(x509.serialNumber)
  }
  t.equal(serials.size, names.length, 'every certificate has its own serial number')
})
