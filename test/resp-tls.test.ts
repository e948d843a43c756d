// The RESP endpoint over TLS, with the real redis-cli: served with the CA alone ('optional') or a
// client certificate ('required'); refused without a certificate under 'required', with a
// certificate from another PKI, and by a client that trusts another CA; a client that never
// finishes its handshake is disconnected; maxClients counts handshakes too. Every refusal is logged.

import { execFile } from 'node:child_process'
import { join } from 'node:path'
import tls from 'node:tls'
import t from 'tap'
import { loadTlsFiles } from '../src/rpc/tls.js'
import { createTestPki } from '../src/testing/pki.js'
import { makeTempDir } from './helpers/log.js'
import { logged, startServer, within } from './helpers/resp-server.js'
import type { RespTlsOptions } from '../src/resp/tls-listener.js'

const directory = makeTempDir('resp-tls')
t.teardown(() => directory.remove())
const pki = await createTestPki(join(directory.path, 'ours'), ['resp-server', 'client'])
const otherPki = await createTestPki(join(directory.path, 'other'), ['intruder'], { caName: 'another CA' })
const serverCertificate = pki.certificates['resp-server']
const clientCertificate = pki.certificates['client']
const intruderCertificate = otherPki.certificates['intruder']
if (!serverCertificate || !clientCertificate || !intruderCertificate) throw new Error('the test PKI is missing a certificate')
const config = await loadTlsFiles({ certFile: serverCertificate.certFile, keyFile: serverCertificate.keyFile, caFile: pki.caFile })

const TRUSTING_US = ['--tls', '--cacert', pki.caFile]
const WITH_CLIENT_CERTIFICATE = [...TRUSTING_US, '--cert', clientCertificate.certFile, '--key', clientCertificate.keyFile]
const WITH_INTRUDER_CERTIFICATE = [...TRUSTING_US, '--cert', intruderCertificate.certFile, '--key', intruderCertificate.keyFile]

interface CliRun {
  readonly stdout: string
  readonly stderr: string
  /** Whether redis-cli exited with an error (or was killed, e.g. by SIGPIPE on a closed connection). */
  readonly failed: boolean
}

function redisCli(port: number, args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, failed: error !== null }),
    )
  })
}

function tlsOptions(clientCertificate: RespTlsOptions['clientCertificate']): RespTlsOptions {
  return { config, clientCertificate }
}

t.test("'optional': redis-cli trusting our CA is served, with or without a client certificate, and with a password", async (t) => {
  const server = await startServer(t, { tls: tlsOptions('optional'), requirePass: 'secret' })

  t.equal((await redisCli(server.port, [...TRUSTING_US, '-a', 'secret', '--no-auth-warning', 'SET', 'k', 'v'])).stdout, 'OK\n')
  t.equal((await redisCli(server.port, [...WITH_CLIENT_CERTIFICATE, '-a', 'secret', '--no-auth-warning', 'GET', 'k'])).stdout, 'v\n')
  t.equal((await redisCli(server.port, [...TRUSTING_US, 'GET', 'k'])).stdout, 'NOAUTH Authentication required.\n\n', 'TLS alone does not authenticate')
})

t.test("'required': redis-cli with a client certificate is served; without one it is refused, and the refusal logged", async (t) => {
  const server = await startServer(t, { tls: tlsOptions('required') })

  t.equal((await redisCli(server.port, [...WITH_CLIENT_CERTIFICATE, 'PING'])).stdout, 'PONG\n')
  const withoutCertificate = await redisCli(server.port, [...TRUSTING_US, 'PING'])

  t.ok(withoutCertificate.failed, withoutCertificate.stderr)
  t.equal(withoutCertificate.stdout, '')
  t.match(await logged(server.logger, 'refusing a TLS client'), { level: 'warn', fields: { reason: 'no client certificate', remote: /^127\.0\.0\.1:\d+$/ } })
  t.same(server.backend.calls, [])
})

t.test('a client certificate from another PKI is refused under either policy, and the refusal logged', async (t) => {
  for (const policy of ['required', 'optional'] as const) {
    const server = await startServer(t, { tls: tlsOptions(policy) })

    const intruder = await redisCli(server.port, [...WITH_INTRUDER_CERTIFICATE, 'PING'])

    t.ok(intruder.failed, `${policy}: ${intruder.stderr}`)
    t.equal(intruder.stdout, '')
    t.match(await logged(server.logger, 'refusing a TLS client'), { fields: { reason: /^client certificate not trusted/, remote: /^127\.0\.0\.1:\d+$/ } })
  }
})

t.test('redis-cli trusting another CA refuses the server, and the server logs the failed handshake', async (t) => {
  const server = await startServer(t, { tls: tlsOptions('optional') })

  const run = await redisCli(server.port, ['--tls', '--cacert', otherPki.caFile, 'PING'])

  t.ok(run.failed)
  t.match(run.stderr, /certificate verify failed/)
  t.match(await logged(server.logger, 'TLS handshake failed'), { level: 'warn', fields: { reason: 'tlsv1 alert unknown ca' } })
})

t.test('a client that does not complete its handshake within tlsHandshakeTimeoutMs is disconnected, logged with its address', async (t) => {
  const server = await startServer(t, { tls: tlsOptions('optional'), tlsHandshakeTimeoutMs: 200 })
  const silent = await server.connect()

  await within(3000, 'the disconnection', silent.closed)

  t.match(
    server.logger.events.find((event) => event.message === 'TLS handshake failed'),
    {
      fields: { code: 'ERR_TLS_HANDSHAKE_TIMEOUT', remote: /^127\.0\.0\.1:\d+$/ },
    },
  )
})

t.test('beyond maxClients a TLS connection is refused before its handshake, logged', async (t) => {
  const server = await startServer(t, { tls: tlsOptions('optional'), maxClients: 1 })
  const first = tls.connect({ host: '127.0.0.1', port: server.port, ca: config.ca })
  t.teardown(() => first.destroy())
  await new Promise((resolve) => first.once('secureConnect', resolve))

  const second = tls.connect({ host: '127.0.0.1', port: server.port, ca: config.ca })
  const outcome = await new Promise<string>((resolve) => {
    second.once('secureConnect', () => resolve('connected'))
    second.once('error', (error) => resolve(`refused: ${error.message}`))
  })

  t.match(outcome, /^refused/)
  t.match(
    server.logger.events.find((event) => event.message === 'refusing a client: too many connections'),
    { fields: { maxClients: 1 } },
  )
  t.equal((await redisCli(server.port, [...TRUSTING_US, 'PING'])).stdout, '', 'a third is refused too')
  first.destroy()
  await new Promise((resolve) => first.once('close', resolve))
  t.equal((await redisCli(server.port, [...TRUSTING_US, 'PING'])).stdout, 'PONG\n', 'once the first has gone, a client is served again')
})
