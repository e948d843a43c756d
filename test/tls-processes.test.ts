// A real 3-process `lograft node` cluster with mutual TLS between its members (issue 11): it
// elects, replicates and serves; a process without a certificate from the cluster's CA gets
// nothing, and one with a valid certificate in another name cannot claim a member's identity, so
// the forgeries that plain TCP can only limit (hostile-peers.test.ts) cannot even be sent.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { rpcOutcome } from './helpers/rpc-outcome.js'
import { tlsArgs } from '../src/cli/tls-flags.js'
import { appendEntries, requestVote } from '../src/raft/rpc-methods.js'
import { invoke } from '../src/rpc/service.js'
import { TcpTransport } from '../src/rpc/tcp-transport.js'
import { type TlsConfig, loadTlsFiles } from '../src/rpc/tls.js'
import { createTestPki } from '../src/testing/pki.js'
import { MemoryLogger } from '../src/base/logger.js'
import { makeTempDir } from './helpers/log.js'
import { infoFields, respPort, runTool, respCommand, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

const directory = makeTempDir('tls-processes')
t.teardown(() => directory.remove())
const pki = await createTestPki(join(directory.path, 'ca'), ['1', '2', '3', 'client'])
const otherPki = await createTestPki(join(directory.path, 'other'), ['1'], { caName: 'not the cluster CA' })
const filesOf = (from: typeof pki, name: string) => {
  const issued = from.certificates[name]
  if (!issued) throw new Error(`no certificate for ${name}`)
  return { certFile: issued.certFile, keyFile: issued.keyFile, caFile: from.caFile }
}
const exits: string[] = []
const kv = await startKvCluster(3, {
  nodeArgs: (id) => tlsArgs(filesOf(pki, id)),
  onExit: (id, code, signal, lastError) => exits.push(`${id} ${signal ?? code}: ${lastError ?? ''}`),
})
t.teardown(() => kv.stop(false))
const leader = await waitForLeader(kv.cluster, 15_000)
if (!leader) throw new Error('no leader over mTLS')
const peers = Object.fromEntries(kv.nodes.map((node) => [node.id, node.raftAddress]))
const clusterId = (await infoFields(respPort(leader)))?.get('cluster_id') ?? ''

async function forger(self: string, tls: TlsConfig | undefined): Promise<TcpTransport> {
  const transport = await TcpTransport.start({
    self,
    peers,
    cluster: { clusterId, incarnation: 'forged', membersDigest: '' },
    logger: new MemoryLogger(),
    callTimeoutMs: 3000,
    ...(tls ? { tls } : {}),
  })
  t.teardown(() => transport.close())
  return transport
}

const follower = kv.nodes.find((node) => node.id !== leader.id)?.id ?? ''
const vote = { term: 1_000, candidateId: leader.id, lastLogIndex: 10_000, lastLogTerm: 999, preVote: false, transfer: false }

t.test('the cluster elects, replicates and serves over mutual TLS', async (t) => {
  t.equal(await respCommand(respPort(leader), 'SET', 'secure', 'yes'), 'OK')
  for (const node of kv.nodes) t.equal(await respCommand(respPort(node), 'GET', 'secure'), 'yes', `read through node ${node.id}`)
})

t.test('a process with a certificate from another CA gets nothing', async (t) => {
  const outsider = await forger(leader.id, await loadTlsFiles(filesOf(otherPki, '1')))
  t.match(await rpcOutcome(invoke(outsider, follower, requestVote, vote)), /^(UNREACHABLE|CONNECTION_LOST)/)
})

t.test('a plain TCP process gets nothing', async (t) => {
  const plain = await forger(leader.id, undefined)
  t.match(await rpcOutcome(invoke(plain, follower, requestVote, vote)), /^(UNREACHABLE|CONNECTION_LOST|TIMEOUT)/)
})

t.test('a valid certificate in another name cannot speak as the leader', async (t) => {
  const impostor = await forger(leader.id, await loadTlsFiles(filesOf(pki, 'client')))
  t.match(await rpcOutcome(invoke(impostor, follower, requestVote, vote)), /claims to be \d but its certificate names client/)
  const entries = [{ term: 999, type: 0, data: new Uint8Array() }]
  const append = { term: 999, leaderId: leader.id, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 1, readRound: 0, lostState: false }
  t.match(await rpcOutcome(invoke(impostor, follower, appendEntries, append)), /claims to be \d but its certificate names client/)
})

t.test('nothing was disturbed: no exits, the same term, the value stands', async (t) => {
  t.same(exits, [])
  const terms = new Set<string>()
  for (const node of kv.nodes) terms.add((await infoFields(respPort(node)))?.get('term') ?? '?')
  t.equal(terms.size, 1, `one term everywhere (${[...terms].join(', ')})`)
  t.equal(await respCommand(respPort(leader), 'GET', 'secure'), 'yes')
})

t.test('lograft node --resp-tls and --requirepass-file: real redis-cli over TLS, NOAUTH until AUTH', async (t) => {
  const passwordFile = join(directory.path, 'password')
  writeFileSync(passwordFile, 's3cret\n')
  const single = await startKvCluster(1, { nodeArgs: (id) => [...tlsArgs(filesOf(pki, id)), '--resp-tls', 'optional', '--requirepass-file', passwordFile] })
  t.teardown(() => single.stop(false))
  const node = single.nodes[0]
  if (!node) throw new Error('no node')
  const cli = (...args: string[]) => runTool('redis-cli', ['--tls', '--cacert', pki.caFile, '-p', String(respPort(node)), ...args])
  const noAuth = await cli('SET', 'k', 'v')
  t.match(noAuth.stdout.toString(), /NOAUTH Authentication required/)
  t.equal((await cli('--no-auth-warning', '-a', 's3cret', 'SET', 'k', 'v')).stdout.toString().trim(), 'OK')
  t.equal((await cli('--no-auth-warning', '-a', 's3cret', 'GET', 'k')).stdout.toString().trim(), 'v')
  const plain = await runTool('redis-cli', ['-p', String(respPort(node)), 'PING'])
  t.notMatch(plain.stdout.toString(), /PONG/, 'plain RESP gets no answer from a TLS endpoint')
})
