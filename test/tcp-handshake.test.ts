// The handshake that opens every TcpTransport connection, on real sockets, plain and mutual TLS:
// who may connect as a peer (cluster id, membership, certificate, one live process per id, the
// data directory it had), what a client may call, and the limits on connections that never say
// hello or go quiet.

import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import t from 'tap'
import { rpcOutcome } from './helpers/rpc-outcome.js'
import { FrameDecoder } from '../src/rpc/framing.js'
import { type ClusterIdentity, membersDigest } from '../src/rpc/handshake.js'
import { handler, invoke } from '../src/rpc/service.js'
import { TcpTransport, type TcpTransportOptions } from '../src/rpc/tcp-transport.js'
import { type TlsConfig, loadTlsFiles } from '../src/rpc/tls.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { createTestPki } from '../src/testing/pki.js'
import { MemoryLogger } from '../src/base/logger.js'
import { echoMethod, echoReply, echoRequest } from './helpers/echo.js'
import { connectRaw, sendHello } from './helpers/raw-connection.js'

const HOST = '127.0.0.1'

interface Member {
  readonly transport: TcpTransport
  readonly logger: MemoryLogger
  readonly port: number
  /** Who called Peer.Echo (peer-only) and Open.Echo (anyone), as each handler saw them. */
  readonly peerCalls: string[]
  readonly openCalls: string[]
}

function cluster(clusterId: string, fields: Partial<ClusterIdentity> = {}): ClusterIdentity {
  return { clusterId, incarnation: 'inc-1', membersDigest: '', ...fields }
}

/** A transport listening on a free port, serving a peer-only and an open echo service. */
async function startMember(t: Test, self: string, options: Partial<TcpTransportOptions> = {}): Promise<Member> {
  const logger = new MemoryLogger()
  const transport = await TcpTransport.start({ self, listen: { host: HOST, port: 0 }, logger, ...options })
  t.teardown(() => transport.close())
  const peerCalls: string[] = []
  const openCalls: string[] = []
  const serve = (calls: string[]) =>
    handler(echoMethod, (request, context) => {
      calls.push(context.from)
      return echoReply({ text: request.text, servedBy: self })
    })
  transport.register('Peer', { Echo: serve(peerCalls) }, { peersOnly: true })
  transport.register('Open', { Echo: serve(openCalls) })
  return { transport, logger, port: transport.address?.port ?? 0, peerCalls, openCalls }
}

const peerEcho = { ...echoMethod, service: 'Peer', fullName: 'Peer.Echo' }
const openEcho = { ...echoMethod, service: 'Open', fullName: 'Open.Echo' }

/** Two members of cluster "c1", n1 and n2, each knowing the other's address. */
async function startPair(t: Test, extra: (id: string) => Partial<TcpTransportOptions> = () => ({})) {
  const n2 = await startMember(t, 'n2', { cluster: cluster('c1'), ...extra('n2') })
  const n1 = await startMember(t, 'n1', { cluster: cluster('c1'), peers: { n2: `${HOST}:${n2.port}` }, ...extra('n1') })
  n2.transport.setPeer('n1', `${HOST}:${n1.port}`)
  return { n1, n2 }
}

t.test('a member calls another as an authenticated peer: peer-only services see its id', async (t) => {
  const { n1, n2 } = await startPair(t)

  const reply = await invoke(n1.transport, 'n2', peerEcho, echoRequest({ text: 'hi' }))

  t.equal(reply.servedBy, 'n2')
  t.same(n2.peerCalls, ['n1'])
})

t.test('a client cannot call a peer-only service (Raft) but can call open ones', async (t) => {
  const { n2 } = await startPair(t)
  const client = await startMember(t, 'n1-pretender', { peers: { n2: `${HOST}:${n2.port}` } })

  t.match(await rpcOutcome(invoke(client.transport, 'n2', peerEcho, echoRequest())), /^NO_HANDLER: .*for clients/)
  t.equal((await invoke(client.transport, 'n2', openEcho, echoRequest({ text: 'ok' }))).text, 'ok')
  t.same(n2.peerCalls, [], 'the peer-only handler never ran')
})

t.test('a node of another cluster is refused, logged on both sides, and reaches no handler', async (t) => {
  const n2 = await startMember(t, 'n2', { cluster: cluster('c1') })
  const stranger = await startMember(t, 'n1', { cluster: cluster('c2'), peers: { n2: `${HOST}:${n2.port}` } })
  stranger.transport.setPeer('n2', `${HOST}:${n2.port}`)

  const outcome = await rpcOutcome(invoke(stranger.transport, 'n2', openEcho, echoRequest()))

  t.match(outcome, /^UNREACHABLE: .*cluster c2 is not this node's cluster c1/)
  t.match(n2.logger.events, [{ level: 'warn', message: 'refused a connection', fields: { claims: 'n1', cluster: 'c2' } }])
  t.match(stranger.logger.events, [{ level: 'error', message: 'cannot use the connection to peer', fields: { peer: 'n2' } }])
  t.same([...n2.peerCalls, ...n2.openCalls], [])
})

t.test('an id that is not a member cannot connect as a peer', async (t) => {
  const n2 = await startMember(t, 'n2', { cluster: cluster('c1'), peers: { n1: `${HOST}:1` } })
  const raw = await connectRaw(n2.port)

  const answer = await sendHello(raw, { clusterId: 'c1', nodeId: 'n9', asPeer: true, expectedId: 'n2' })

  t.match(answer, { accepted: false, reason: 'n9 is not a member of cluster c1', nodeId: 'n2', clusterId: 'c1' })
  await raw.closed
})

t.test('a hello that reached the wrong node is refused by both ends', async (t) => {
  const n3 = await startMember(t, 'n3', { cluster: cluster('c1') })
  // n1 believes n2 lives at n3's address.
  const n1 = await startMember(t, 'n1', { cluster: cluster('c1'), peers: { n2: `${HOST}:${n3.port}` } })

  t.match(await rpcOutcome(invoke(n1.transport, 'n2', openEcho, echoRequest())), /this is node n3, not n2/)
})

t.test('members started with different member lists are refused, naming the flag to check', async (t) => {
  const { n1 } = await startPair(t, (id) => ({ cluster: cluster('c1', { membersDigest: membersDigest({ n1: 'a:1', n2: id === 'n1' ? 'b:2' : 'c:3' }) }) }))

  t.match(await rpcOutcome(invoke(n1.transport, 'n2', openEcho, echoRequest())), /another member list .*check --peers/)
})

t.test('a peer whose data directory is not the one this node knew is refused as having lost its state', async (t) => {
  const known = new Map([['n1', 'inc-old']])
  const checkIncarnation = (id: string, incarnation: string): string | null =>
    known.get(id) === undefined || known.get(id) === incarnation ? null : `${id} came back with another data directory: it lost its state`
  const { n1, n2 } = await startPair(t, (id) => (id === 'n2' ? { checkIncarnation } : {}))

  t.match(await rpcOutcome(invoke(n1.transport, 'n2', peerEcho, echoRequest())), /n1 came back with another data directory/)
  t.same(n2.peerCalls, [])
})

t.test('a second live process claiming a connected id is refused; the first keeps its connection', async (t) => {
  const { n1, n2 } = await startPair(t)
  await invoke(n1.transport, 'n2', peerEcho, echoRequest())
  const twin = await startMember(t, 'n1', { cluster: cluster('c1'), peers: { n2: `${HOST}:${n2.port}` } })

  t.match(await rpcOutcome(invoke(twin.transport, 'n2', peerEcho, echoRequest())), /another connection from n1 is live/)
  t.equal((await invoke(n1.transport, 'n2', peerEcho, echoRequest({ text: 'still' }))).text, 'still')
  t.same(n2.peerCalls, ['n1', 'n1'])
})

t.test('a restarted process takes over its id once the old connection has gone quiet', async (t) => {
  const { n1, n2 } = await startPair(t, () => ({ peerQuietMs: 100 }))
  await invoke(n1.transport, 'n2', peerEcho, echoRequest())
  const restarted = await startMember(t, 'n1', { cluster: cluster('c1'), peers: { n2: `${HOST}:${n2.port}` } })
  await sleep(systemClock, 150)

  t.equal((await invoke(restarted.transport, 'n2', peerEcho, echoRequest({ text: 'back' }))).text, 'back')
  t.match(n2.logger.events, [{ message: 'closing connection', fields: { reason: 'replaced by a new process claiming n1' } }])
})

t.test('a connection that never says hello is closed at the handshake timeout', async (t) => {
  const n2 = await startMember(t, 'n2', { handshakeTimeoutMs: 100 })
  const raw = await connectRaw(n2.port)
  const startedMs = performance.now()

  await raw.closed

  t.ok(performance.now() - startedMs >= 90, 'closed at the timeout')
  t.match(n2.logger.events, [{ message: 'closing connection', fields: { reason: 'no hello within 100ms' } }])
})

t.test('before its hello is accepted a connection may send only a small hello', async (t) => {
  const n2 = await startMember(t, 'n2')
  const request = await connectRaw(n2.port)
  request.socket.write(Buffer.from([0, 0, 0, 2, 0x08, 0x00])) // A REQUEST frame (kind 0) where a hello belongs.
  await request.closed
  const big = await connectRaw(n2.port)
  big.socket.write(Buffer.from([0, 0, 0x20, 0])) // An 8 KiB first frame.
  await big.closed

  t.match(n2.logger.events, [
    { message: 'refused a connection', fields: { reason: 'the first frame must be a hello, not kind 0' } },
    { message: 'closing connection after a bad frame', fields: { reason: 'frame of 8192 bytes exceeds the maximum of 4096' } },
  ])
  t.same(n2.openCalls, [])
})

t.test('an idle connection is closed and the caller reconnects for its next call', async (t) => {
  const { n1, n2 } = await startPair(t, () => ({ idleTimeoutMs: 100 }))
  await invoke(n1.transport, 'n2', openEcho, echoRequest())
  await sleep(systemClock, 250)

  t.match(n2.logger.events, [{ message: 'closing connection', fields: { reason: 'idle for 100ms' } }])
  t.equal((await invoke(n1.transport, 'n2', openEcho, echoRequest({ text: 'again' }))).text, 'again')
})

t.test('connections beyond maxConnections are dropped and logged; those within keep working', async (t) => {
  const n2 = await startMember(t, 'n2', { maxConnections: 2 })
  const first = await connectRaw(n2.port)
  const second = await connectRaw(n2.port)
  const third = await connectRaw(n2.port)

  await third.closed

  t.match(n2.logger.events, [{ message: 'refused a connection: too many open', fields: { maxConnections: 2 } }])
  t.match(await sendHello(first, {}), { accepted: true })
  t.match(await sendHello(second, {}), { accepted: true })
})

t.test('a frame trickled in many small chunks is joined once: bytes copied stay linear in its size', async (t) => {
  const frameBytes = 1024 * 1024
  const frame = Buffer.alloc(4 + frameBytes, 7)
  frame.writeUInt32BE(frameBytes, 0)
  const decoder = new FrameDecoder(2 * frameBytes)
  const originalAllocUnsafe = Buffer.allocUnsafe
  const originalConcat = Buffer.concat
  let allocatedBytes = 0
  Buffer.allocUnsafe = (size: number) => {
    allocatedBytes += size
    return originalAllocUnsafe(size)
  }
  Buffer.concat = (list: readonly Uint8Array[], totalLength?: number) => {
    const joined = originalConcat(list, totalLength)
    allocatedBytes += joined.length
    return joined
  }
  let frames: Buffer[] = []
  try {
    for (let offset = 0; offset < frame.length; offset += 1000) frames = frames.concat(decoder.push(frame.subarray(offset, offset + 1000)))
  } finally {
    Buffer.allocUnsafe = originalAllocUnsafe
    Buffer.concat = originalConcat
  }

  t.equal(frames.length, 1)
  t.equal(frames[0]?.length, frameBytes)
  t.ok(allocatedBytes <= 2 * frameBytes, `${allocatedBytes} bytes allocated to join a ${frameBytes}-byte frame from 1000-byte chunks`)
})

t.test('mutual TLS', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'lograft-tls-'))
  const pki = await createTestPki(join(directory, 'ca'), ['n1', 'n2', 'client'])
  const other = await createTestPki(join(directory, 'other-ca'), ['n1'], { caName: 'someone else' })
  const tlsFor = (name: string, from = pki): Promise<TlsConfig> => {
    const issued = from.certificates[name]
    if (!issued) throw new Error(`no certificate for ${name}`)
    return loadTlsFiles({ certFile: issued.certFile, keyFile: issued.keyFile, caFile: from.caFile })
  }

  t.test('members with certificates from the cluster CA call each other as peers', async (t) => {
    const tls1 = await tlsFor('n1')
    const tls2 = await tlsFor('n2')
    const { n1, n2 } = await startPair(t, (id) => ({ tls: id === 'n1' ? tls1 : tls2 }))

    t.equal((await invoke(n1.transport, 'n2', peerEcho, echoRequest({ text: 'secure' }))).text, 'secure')
    t.same(n2.peerCalls, ['n1'])
  })

  t.test('a certificate from another CA is refused during TLS, before any hello', async (t) => {
    const n2 = await startMember(t, 'n2', { cluster: cluster('c1'), peers: { n1: `${HOST}:1` }, tls: await tlsFor('n2') })
    const outsider = await startMember(t, 'n1', { cluster: cluster('c1'), peers: { n2: `${HOST}:${n2.port}` }, tls: await tlsFor('n1', other) })

    t.match(await rpcOutcome(invoke(outsider.transport, 'n2', openEcho, echoRequest())), /^UNREACHABLE: /)
    t.same([...n2.peerCalls, ...n2.openCalls], [])
  })

  t.test('a valid certificate that names another node cannot claim to be a peer', async (t) => {
    const n2 = await startMember(t, 'n2', { cluster: cluster('c1'), peers: { n1: `${HOST}:1` }, tls: await tlsFor('n2') })
    const impostor = await startMember(t, 'n1', { cluster: cluster('c1'), peers: { n2: `${HOST}:${n2.port}` }, tls: await tlsFor('client') })

    t.match(await rpcOutcome(invoke(impostor.transport, 'n2', peerEcho, echoRequest())), /claims to be n1 but its certificate names client/)
    t.same(n2.peerCalls, [])
  })

  t.test('a client with a CA certificate may call open services; a plain TCP client gets nothing', async (t) => {
    const n2 = await startMember(t, 'n2', { cluster: cluster('c1'), tls: await tlsFor('n2') })
    const client = await startMember(t, 'client', { peers: { n2: `${HOST}:${n2.port}` }, tls: await tlsFor('client') })
    const plain = await startMember(t, 'plain', { peers: { n2: `${HOST}:${n2.port}` } })

    t.equal((await invoke(client.transport, 'n2', openEcho, echoRequest({ text: 'tls client' }))).text, 'tls client')
    t.match(await rpcOutcome(invoke(plain.transport, 'n2', openEcho, echoRequest(), { timeoutMs: 3000 })), /^(UNREACHABLE|CONNECTION_LOST)/)
    t.same(n2.openCalls, ['client'])
  })

  t.test('a server whose certificate names another node than the one dialed is refused by the caller', async (t) => {
    const n3 = await startMember(t, 'n3', { cluster: cluster('c1'), tls: await tlsFor('n2') })
    const n1 = await startMember(t, 'n1', { cluster: cluster('c1'), peers: { n3: `${HOST}:${n3.port}` }, tls: await tlsFor('n1') })

    t.match(await rpcOutcome(invoke(n1.transport, 'n3', openEcho, echoRequest())), /certificate names "n2", not "n3"/)
  })
})
