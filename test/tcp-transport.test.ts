// TcpTransport on real sockets on 127.0.0.1, where TCP has more to say than every Transport: bad
// frames from a raw socket, frame size limits, unreachable addresses and backoff, a peer restarting
// on the same port, closing a server with connections open, and calls to itself. What every
// Transport promises is checked by lograft/testing's conformance suite in transport-conformance.test.ts.

import net from 'node:net'
import type { Test } from 'tap'
import t from 'tap'
import { type RpcErrorCode, isRpcError } from '../src/rpc/errors.js'
import { handler, invoke, rpcMethod } from '../src/rpc/service.js'
import { TcpTransport, type TcpTransportOptions } from '../src/rpc/tcp-transport.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { MemoryLogger } from '../src/base/logger.js'
import { connectRaw, sendHello } from './helpers/raw-connection.js'
import { type EchoReply, type EchoRequest, echoMethod, echoReply, echoReplyCodec, echoRequest, echoRequestCodec } from './helpers/echo.js'

const HOST = '127.0.0.1'

/** Echo.Twice: replies with the request's data twice over, so a small request can get a large reply. */
const twiceMethod = rpcMethod('Echo', 'Twice', echoRequestCodec, echoReplyCodec)

interface EchoNode {
  readonly transport: TcpTransport
  /** "host:port", usable as a peer name in calls. */
  readonly address: string
  readonly port: number
  readonly logger: MemoryLogger
  /** The text of every Echo.Echo request the node received. */
  readonly handled: string[]
}

/** A transport listening on 127.0.0.1 (port 0 unless `options.listen` says otherwise) serving the echo service. */
async function startEchoNode(t: Test, self: string, options: Partial<TcpTransportOptions> = {}): Promise<EchoNode> {
  const logger = new MemoryLogger()
  const transport = await TcpTransport.start({ self, listen: { host: HOST, port: 0 }, logger, ...options })
  t.teardown(() => transport.close())
  const handled: string[] = []
  transport.register('Echo', {
    Echo: handler(echoMethod, async (request, context) => {
      handled.push(request.text)
      if (request.delayMs > 0) await sleep(systemClock, request.delayMs)
      return echoReply({ text: request.text, data: request.data, servedBy: `${self} for ${context.from}` })
    }),
    Twice: handler(twiceMethod, (request) => echoReply({ data: Buffer.concat([request.data, request.data]) })),
  })
  const port = transport.address?.port
  if (port === undefined) throw new Error(`${self} is not listening`)
  return { transport, address: `${HOST}:${port}`, port, logger, handled }
}

/** A client-only transport, closed when the test ends. */
async function startClient(t: Test, options: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
  const transport = await TcpTransport.start({ self: 'client', logger: new MemoryLogger(), ...options })
  t.teardown(() => transport.close())
  return transport
}

function echo(client: TcpTransport, address: string, request: Partial<EchoRequest>): Promise<EchoReply> {
  return invoke(client, address, echoMethod, echoRequest(request))
}

/** The error code a call failed with, or 'ok'; so several calls' fates can be compared at once. */
async function fate(call: Promise<unknown>): Promise<RpcErrorCode | 'ok' | 'not an RpcError'> {
  try {
    await call
    return 'ok'
  } catch (error) {
    return isRpcError(error) ? error.code : 'not an RpcError'
  }
}

/** Opens a raw socket to the server, writes `bytes` and resolves when the server closes it. */
async function writeRawAndAwaitClose(port: number, bytes: Buffer): Promise<void> {
  const socket = net.connect({ host: HOST, port })
  // The server may reset the connection; the reset is the close this helper waits for.
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.on('connect', resolve))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  socket.write(bytes)
  await closed
}

/** A port that was free a moment ago and has no listener now. */
async function unusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function elapsedMsSince(startedMs: number): number {
  return performance.now() - startedMs
}

t.test('garbage bytes close only the connection that sent them, with an error logged', async (t) => {
  const server = await startEchoNode(t, 'server')
  const client = await startClient(t)
  t.equal((await echo(client, server.address, { text: 'before' })).text, 'before')

  // A valid length prefix followed by bytes that are no protobuf Frame.
  await writeRawAndAwaitClose(server.port, Buffer.from([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))

  t.match(server.logger.events, [{ level: 'error', message: 'closing connection after a bad frame', fields: { reason: /undecodable frame/ } }])
  t.equal((await echo(client, server.address, { text: 'after' })).text, 'after', 'the other connection still works')
})

t.test('a frame header over maxFrameBytes closes that connection and the server keeps serving', async (t) => {
  const server = await startEchoNode(t, 'server', { maxFrameBytes: 1024 })
  const client = await startClient(t)

  const raw = await connectRaw(server.port)
  t.match(await sendHello(raw, {}), { accepted: true }, 'a client hello is accepted')
  raw.socket.write(Buffer.from([0, 1, 0, 0]))
  await raw.closed

  t.match(server.logger.events, [
    { level: 'error', message: 'closing connection after a bad frame', fields: { reason: 'frame of 65536 bytes exceeds the maximum of 1024' } },
  ])
  t.equal((await echo(client, server.address, { text: 'still serving' })).text, 'still serving')
})

t.test('a request over maxFrameBytes is rejected locally with FRAME_TOO_LARGE', async (t) => {
  const server = await startEchoNode(t, 'server')
  const client = await startClient(t, { maxFrameBytes: 1024 })

  await t.rejects(echo(client, server.address, { text: 'big', data: new Uint8Array(2000) }), { code: 'FRAME_TOO_LARGE' })

  t.same(server.handled, [], 'the server never saw it')
  t.equal((await echo(client, server.address, { text: 'small' })).text, 'small')
})

t.test('a reply over maxFrameBytes comes back as a FRAME_TOO_LARGE error', async (t) => {
  const server = await startEchoNode(t, 'server', { maxFrameBytes: 1024 })
  const client = await startClient(t)

  await t.rejects(invoke(client, server.address, twiceMethod, echoRequest({ data: new Uint8Array(600) })), {
    code: 'FRAME_TOO_LARGE',
    message: /reply of \d+ bytes exceeds the maximum frame of 1024/,
  })

  t.equal((await echo(client, server.address, { text: 'next' })).text, 'next', 'the connection stays usable')
})

t.test('a call to a port nobody listens on fails UNREACHABLE at once, then fast during backoff', async (t) => {
  const address = `${HOST}:${await unusedPort()}`
  const client = await startClient(t, { backoffInitialMs: 300, callTimeoutMs: 5000 })

  const startedMs = performance.now()
  await t.rejects(echo(client, address, {}), { code: 'UNREACHABLE', message: /cannot connect/ })
  t.ok(elapsedMsSince(startedMs) < 1000, `refused after ${Math.round(elapsedMsSince(startedMs))} ms, not at the 5000 ms timeout`)
  await t.rejects(echo(client, address, {}), { code: 'UNREACHABLE', message: /retrying in \d+ms/ }, 'during backoff it does not connect')
  await sleep(systemClock, 350)
  await t.rejects(echo(client, address, {}), { code: 'UNREACHABLE', message: /cannot connect/ }, 'after backoff it tries again')
})

t.test('after the peer restarts on the same port, calls succeed again once the backoff ends', async (t) => {
  const first = await startEchoNode(t, 'first')
  const client = await startClient(t, { backoffInitialMs: 200 })
  t.equal((await echo(client, first.address, {})).servedBy, 'first for client')

  const inFlight = fate(echo(client, first.address, { delayMs: 300 }))
  await sleep(systemClock, 20)
  await first.transport.close()
  t.equal(await inFlight, 'CONNECTION_LOST', 'the call in flight when the peer stopped')
  t.equal(await fate(echo(client, first.address, {})), 'UNREACHABLE', 'a call while the peer is down')

  const second = await startEchoNode(t, 'second', { listen: { host: HOST, port: first.port } })
  await t.rejects(echo(client, first.address, {}), { code: 'UNREACHABLE', message: /retrying in/ }, 'still backing off')
  await sleep(systemClock, 250)

  t.equal((await echo(client, second.address, {})).servedBy, 'second for client')
})

t.test('closing a server with connections and calls open does not hang', async (t) => {
  const server = await startEchoNode(t, 'server')
  const client = await startClient(t)
  const call = fate(echo(client, server.address, { text: 'held', delayMs: 1000 }))
  // Closed once the call is being handled, not after a guessed delay: a close while the client
  // is still connecting fails the call as UNREACHABLE, which is right, but not what this tests.
  while (!server.handled.includes('held')) await sleep(systemClock, 2)

  const startedMs = performance.now()
  await server.transport.close()

  t.ok(elapsedMsSince(startedMs) < 100, `close() took ${Math.round(elapsedMsSince(startedMs))} ms`)
  t.equal(await call, 'CONNECTION_LOST')
})

t.test('a typed call to this node itself runs the handler in-process, without encoding', async (t) => {
  const transport = await TcpTransport.start({ self: 'solo', listen: { host: '127.0.0.1', port: 0 }, logger: new MemoryLogger() })
  t.teardown(() => transport.close())
  const seen: unknown[] = []
  transport.register('Echo', {
    Echo: handler(echoMethod, (request, context) => {
      seen.push(request)
      return echoReply({ text: request.text, servedBy: context.from })
    }),
  })
  const request = echoRequest({ text: 'hello' })
  const reply = await invoke(transport, 'solo', echoMethod, request)
  t.same(reply, echoReply({ text: 'hello', servedBy: 'solo' }))
  t.equal(seen[0], request, 'the handler got the very request object: nothing was encoded or decoded')
  const viaBytes = await transport.call('solo', 'Echo.Echo', echoMethod.request.encode(request))
  t.equal(echoMethod.reply.decode(viaBytes).text, 'hello', 'a byte-level call to itself still works')
})
