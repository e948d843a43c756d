// SimNetwork against the properties of MIT 6.5840's labrpc tests (labrpc/test_test.go), played
// out on virtual time: counts, bytes, disconnection, unreliability, killed and replaced servers,
// long delays and reordering; plus seed determinism and running under sinon fake timers. What
// every Transport promises (round trips, errors, timeouts, close) is checked by lograft/testing's
// conformance suite in transport-conformance.test.ts.

import sinon from 'sinon'
import t from 'tap'
import { type RpcErrorCode, isRpcError } from '../src/rpc/errors.js'
import { handler, invoke, rpcMethod } from '../src/rpc/service.js'
import { type SimClientEnd, type SimEvent, SimNetwork, SimServer } from '../src/rpc/sim-network.js'
import { SimTransport } from '../src/rpc/sim-transport.js'
import { type Clock, sleep, systemClock } from '../src/base/clock.js'
import { Rng } from '../src/base/rng.js'
import { stableSeed } from '../src/sim/seeds.js'
import { SimWorld } from '../src/sim/world.js'
import { type EchoReply, type EchoRequest, echoMethod, echoReply, echoReplyCodec, echoRequest, echoRequestCodec } from './helpers/echo.js'
import { seededTest, simTest } from './helpers/sim.js'

const SERVER = 'server99'

/** Echo.Sink: swallows the request and replies with an empty (zero-byte) message. */
const sinkMethod = rpcMethod('Echo', 'Sink', echoRequestCodec, echoReplyCodec)
/** Echo.Describe: the request and reply types swapped, to show each method decodes its own. */
const describeMethod = rpcMethod('Echo', 'Describe', echoReplyCodec, echoRequestCodec)

interface HandledCall {
  readonly text: string
  readonly from: string
}

interface EchoServerOptions {
  /** Served as EchoReply.served_by. */
  name?: string
  /** Runs before each Echo.Echo reply; a handler that blocks here blocks its call. */
  beforeReply?: (request: EchoRequest) => Promise<void>
}

/** Adds `serverName` to the network with the echo service; `handled` records each Echo.Echo call. */
function addEchoServer(world: SimWorld, serverName = SERVER, options: EchoServerOptions = {}): { handled: HandledCall[] } {
  const handled: HandledCall[] = []
  const server = new SimServer()
  server.register('Echo', {
    Echo: handler(echoMethod, async (request, context) => {
      handled.push({ text: request.text, from: context.from })
      if (request.delayMs > 0) await sleep(world.clock, request.delayMs)
      await options.beforeReply?.(request)
      return echoReply({ text: request.text, data: request.data, servedBy: options.name ?? serverName, sequence: handled.length })
    }),
    Sink: handler(sinkMethod, () => echoReply()),
    Describe: handler(describeMethod, (reply) =>
      echoRequest({ text: `${reply.servedBy}/${reply.text}#${reply.sequence}`, data: reply.data.slice().reverse(), delayMs: reply.data.length }),
    ),
  })
  world.network.addServer(serverName, server)
  return { handled }
}

interface Client {
  readonly end: SimClientEnd
  /** A transport whose only peer is the server, for calling any method with invoke(). */
  readonly transport: SimTransport
  echo(request: EchoRequest): Promise<EchoReply>
}

/** A client with one end to `serverName`, made the labrpc way: connected and enabled unless told otherwise. */
function addClient(world: SimWorld, endName: string, wiring: { connected?: boolean; enabled?: boolean } = {}, serverName = SERVER): Client {
  const end = world.network.makeEnd(endName)
  if (wiring.connected ?? true) world.network.connect(endName, serverName)
  world.network.enable(endName, wiring.enabled ?? true)
  const transport = new SimTransport({ self: endName, server: new SimServer(), ends: new Map([[serverName, end]]), clock: world.clock })
  return { end, transport, echo: (request) => invoke(transport, serverName, echoMethod, request) }
}

type Outcome<T> = { ok: true; value: T; atMs: number } | { ok: false; error: unknown; atMs: number }

/** Turns a call into its outcome and the virtual time it settled at, so a failure is data, not a rejection. */
function settle<T>(clock: Clock, promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value, atMs: clock.now() }),
    (error: unknown) => ({ ok: false as const, error, atMs: clock.now() }),
  )
}

/** Follows a call so a scenario can check whether it has finished yet. */
function track<T>(clock: Clock, promise: Promise<T>): { outcome: Promise<Outcome<T>>; settled(): boolean } {
  let settled = false
  const outcome = settle(clock, promise).finally(() => (settled = true))
  return { outcome, settled: () => settled }
}

function failedWith<T>(outcome: Outcome<T>, code: RpcErrorCode): boolean {
  return !outcome.ok && isRpcError(outcome.error, code)
}

/** Virtual ms from `startedMs` until each outcome settled. */
function latenciesMs<T>(outcomes: readonly Outcome<T>[], startedMs: number): number[] {
  return outcomes.map((outcome) => outcome.atMs - startedMs)
}

interface Deferred {
  readonly promise: Promise<void>
  resolve(): void
}

function deferred(): Deferred {
  let resolve = (): void => {}
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

simTest(t, 'methods with different request and reply messages each decode their own fields', async (world, t) => {
  addEchoServer(world)
  const { transport } = addClient(world, 'end1-99')
  const largeSequence = 2 ** 40 + 7

  const described = await invoke(
    transport,
    SERVER,
    describeMethod,
    echoReply({ text: 'x', data: Uint8Array.of(1, 2), servedBy: 'me', sequence: largeSequence }),
  )
  const echoed = await invoke(transport, SERVER, echoMethod, echoRequest({ text: 'y' }))

  t.equal(described.text, `me/x#${largeSequence}`, 'a uint64 beyond 32 bits survives the round trip')
  t.same([...described.data], [2, 1])
  t.equal(described.delayMs, 2)
  t.equal(echoed.text, 'y')
  t.equal(echoed.servedBy, SERVER)
})

simTest(t, 'an end fails until it is both connected and enabled', async (world, t) => {
  addEchoServer(world)
  const client = addClient(world, 'end1-99', { connected: false, enabled: false })

  await t.rejects(client.echo(echoRequest({ text: 'unconnected' })), { code: 'UNREACHABLE' })
  world.network.connect('end1-99', SERVER)
  await t.rejects(client.echo(echoRequest({ text: 'disabled' })), { code: 'UNREACHABLE' })
  world.network.enable('end1-99', true)
  const reply = await client.echo(echoRequest({ text: 'enabled' }))

  t.equal(reply.text, 'enabled')
  t.equal(world.network.serverRpcCount(SERVER), 1, 'only the enabled call reached the server')
})

simTest(t, 'the network counts every RPC submitted and the server every RPC dispatched to it', async (world, t) => {
  addEchoServer(world)
  const client = addClient(world, 'end1-99')

  for (let i = 0; i < 17; i++) {
    const reply = await client.echo(echoRequest({ text: `call-${i}` }))
    t.equal(reply.text, `call-${i}`)
  }
  t.equal(world.network.serverRpcCount(SERVER), 17)
  t.equal(world.network.totalRpcs, 17)

  world.network.enable('end1-99', false)
  await t.rejects(client.echo(echoRequest({ text: 'disabled' })), { code: 'UNREACHABLE' })
  t.equal(world.network.totalRpcs, 18, 'a call on a disabled end is still submitted')
  t.equal(world.network.serverRpcCount(SERVER), 17, 'but never dispatched')
})

simTest(t, 'totalBytes counts request bytes at submission and reply bytes at delivery', async (world, t) => {
  addEchoServer(world)
  const client = addClient(world, 'end1-99')

  // 128 data bytes encode as tag (1) + varint length (2) + 128 = 131; the empty reply is 0 bytes.
  for (let i = 0; i < 17; i++) await invoke(client.transport, SERVER, sinkMethod, echoRequest({ data: new Uint8Array(128) }))
  t.equal(world.network.totalBytes, 17 * 131)

  // 107 data bytes encode as 1 + 1 + 107 = 109; the reply echoes them and adds served_by
  // "server99" (1 + 1 + 8) and a sequence below 128 (1 + 1): 121 bytes.
  for (let i = 0; i < 17; i++) await client.echo(echoRequest({ data: new Uint8Array(107) }))
  t.equal(world.network.totalBytes, 17 * 131 + 17 * (109 + 121))

  world.network.enable('end1-99', false)
  await t.rejects(client.echo(echoRequest({ data: new Uint8Array(107) })), { code: 'UNREACHABLE' })
  t.equal(world.network.totalBytes, 17 * 131 + 17 * (109 + 121) + 109, 'an undelivered call adds its request bytes only')
})

simTest(t, 'twenty ends making ten calls each, all at once, all succeed', async (world, t) => {
  addEchoServer(world)
  const clients = Array.from({ length: 20 }, (_, i) => addClient(world, `end-${i}`))

  const replies = await Promise.all(clients.flatMap((client, i) => Array.from({ length: 10 }, (_, j) => client.echo(echoRequest({ text: `${i}.${j}` })))))

  t.same(
    replies.map((reply) => reply.text),
    clients.flatMap((_, i) => Array.from({ length: 10 }, (_, j) => `${i}.${j}`)),
  )
  t.equal(world.network.serverRpcCount(SERVER), 200)
  t.equal(world.network.totalRpcs, 200)
})

simTest(t, 'an unreliable network loses some calls but not all, and some before the handler runs', async (world, t) => {
  const { handled } = addEchoServer(world)
  world.network.setReliable(false)
  const calls = 300

  const outcomes = await Promise.all(
    Array.from({ length: calls }, (_, i) => settle(world.clock, addClient(world, `end-${i}`).echo(echoRequest({ text: `${i * 100}` })))),
  )

  const successes = outcomes.filter((outcome) => outcome.ok).length
  t.ok(successes > 0 && successes < calls, `${successes} of ${calls} calls succeeded`)
  t.ok(
    outcomes.every((outcome, i) => (outcome.ok ? outcome.value.text === `${i * 100}` : failedWith(outcome, 'LOST'))),
    'each call got its own reply or failed as LOST',
  )
  t.ok(handled.length < calls, `the handler ran ${handled.length} times for ${calls} calls: some requests were dropped`)
  t.ok(handled.length > successes, 'and some replies were dropped after the handler ran')
})

simTest(t, 'a re-enabled end serves a new call promptly while calls from the outage stay failed', async (world, t) => {
  const release = deferred()
  addEchoServer(world, SERVER, { beforeReply: (request) => (request.text.startsWith('blocked') ? release.promise : Promise.resolve()) })
  const client = addClient(world, 'end1-99')

  const blocked = Array.from({ length: 5 }, (_, i) => settle(world.clock, client.echo(echoRequest({ text: `blocked-${i}` }))))
  await sleep(world.clock, 10)
  world.network.enable('end1-99', false)
  const duringOutage = Array.from({ length: 20 }, (_, i) => settle(world.clock, client.echo(echoRequest({ text: `outage-${i}` }))))
  await sleep(world.clock, 100)
  world.network.enable('end1-99', true)
  release.resolve()
  const enabledAtMs = world.clock.now()
  const reply = await client.echo(echoRequest({ text: 'after' }))

  t.equal(reply.text, 'after')
  t.ok(world.clock.now() - enabledAtMs <= 30, `the call after Enable took ${world.clock.now() - enabledAtMs} ms`)
  t.ok(
    (await Promise.all(blocked)).every((outcome) => failedWith(outcome, 'LOST')),
    'calls blocked in the server when the end was disabled failed as LOST',
  )
  t.ok(
    (await Promise.all(duringOutage)).every((outcome) => failedWith(outcome, 'UNREACHABLE')),
    'calls made while disabled failed as UNREACHABLE',
  )
  t.equal(world.network.serverRpcCount(SERVER), 6, 'the outage calls never reached the server')
})

simTest(t, "a killed server's pending call fails within 100 ms", async (world, t) => {
  addEchoServer(world, SERVER, { beforeReply: () => new Promise<void>(() => {}) })
  const client = addClient(world, 'end1-99')

  const call = track(world.clock, client.echo(echoRequest({ text: 'forever' })))
  await sleep(world.clock, 1050)
  t.notOk(call.settled(), 'the call waits while the handler blocks')
  world.network.deleteServer(SERVER)
  const killedAtMs = world.clock.now()
  const outcome = await call.outcome

  t.ok(failedWith(outcome, 'LOST'), 'the call failed as LOST')
  t.ok(outcome.atMs - killedAtMs <= 100, `it failed ${outcome.atMs - killedAtMs} ms after DeleteServer`)
})

simTest(t, "a replaced server's reply is never delivered", async (world, t) => {
  addEchoServer(world, SERVER, { name: 'old' })
  const client = addClient(world, 'end1-99')

  const call = settle(world.clock, client.echo(echoRequest({ text: 'slow', delayMs: 60 })))
  await sleep(world.clock, 50)
  const bytesBeforeReplacement = world.network.totalBytes
  addEchoServer(world, SERVER, { name: 'new' })
  const outcome = await call

  t.ok(failedWith(outcome, 'LOST'), "the old server's reply was not delivered")
  t.equal(world.network.totalBytes, bytesBeforeReplacement, 'and its bytes were not counted')
  t.equal((await client.echo(echoRequest({ text: 'next' }))).servedBy, 'new', 'the next call reaches the new server')
})

simTest(t, 'with long delays a call on a disabled end fails within 7000 ms, without them within 100 ms', async (world, t) => {
  addEchoServer(world)
  const client = addClient(world, 'end1-99', { enabled: false })
  const failAll = async (): Promise<number[]> => {
    const startedMs = world.clock.now()
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => settle(world.clock, client.echo(echoRequest()))))
    t.ok(
      outcomes.every((outcome) => failedWith(outcome, 'UNREACHABLE')),
      'every call failed as UNREACHABLE',
    )
    return latenciesMs(outcomes, startedMs)
  }

  const shortMs = await failAll()
  world.network.setLongDelays(true)
  const longMs = await failAll()

  t.ok(Math.max(...shortMs) < 100, `without long delays the slowest failure took ${Math.max(...shortMs)} ms`)
  t.ok(Math.max(...longMs) < 7000, `with long delays the slowest failure took ${Math.max(...longMs)} ms`)
  t.ok(Math.max(...longMs) >= 100, 'and some took longer than any short delay')
})

simTest(t, 'long reordering delays some replies by 200 to 2200 ms, so they arrive out of order', async (world, t) => {
  addEchoServer(world)
  world.network.setLongReordering(true)
  const client = addClient(world, 'end1-99')
  const arrivals: string[] = []
  const texts = Array.from({ length: 100 }, (_, i) => `call-${i}`)

  const outcomes = await Promise.all(
    texts.map((text) =>
      settle(
        world.clock,
        client.echo(echoRequest({ text })).then((reply) => {
          arrivals.push(reply.text)
          return reply
        }),
      ),
    ),
  )

  const delaysMs = latenciesMs(outcomes, 0)
  const delayed = delaysMs.filter((delayMs) => delayMs > 0)
  t.ok(
    outcomes.every((outcome, i) => outcome.ok && outcome.value.text === texts[i]),
    'every call got its own reply',
  )
  t.ok(delayed.length > 0 && delayed.length < texts.length, `${delayed.length} of ${texts.length} replies were delayed`)
  t.ok(
    delayed.every((delayMs) => delayMs >= 200 && delayMs <= 2200),
    `delays ranged ${Math.min(...delayed)}–${Math.max(...delayed)} ms`,
  )
  t.notSame(arrivals, texts, 'replies arrived in a different order than the calls were made')
})

simTest(t, 'ten thousand sequential calls on a reliable network take no virtual time', async (world, t) => {
  addEchoServer(world)
  const client = addClient(world, 'end1-99')

  for (let i = 0; i < 10_000; i++) await client.echo(echoRequest({ text: 'x' }))

  t.equal(world.network.serverRpcCount(SERVER), 10_000)
  t.equal(world.clock.now(), 0)
})

/** Runs many concurrent calls on an unreliable, reordering network and returns the event trace. */
async function unreliableTrace(seed: number): Promise<SimEvent[]> {
  const world = new SimWorld({ seed, trace: true })
  await world.run(async () => {
    addEchoServer(world)
    world.network.setReliable(false)
    world.network.setLongReordering(true)
    const clients = Array.from({ length: 20 }, (_, i) => addClient(world, `end-${i}`))
    await Promise.all(
      clients.flatMap((client) => Array.from({ length: 5 }, () => settle(world.clock, client.echo(echoRequest({ delayMs: world.rng.int(50) }))))),
    )
  })
  return world.trace
}

seededTest(t, 'the same seed replays the identical event trace, and another seed does not', async (seed, t) => {
  const first = await unreliableTrace(seed)
  const replay = await unreliableTrace(seed)
  const other = await unreliableTrace(seed + 1)

  t.ok(
    first.some((event) => event.kind === 'drop-request' || event.kind === 'drop-reply'),
    'the trace includes lost messages',
  )
  t.same(replay, first)
  t.notSame(other, first)
})

t.test('SimNetwork runs under sinon fake timers through systemClock', async (t) => {
  const fakeTime = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  try {
    const network = new SimNetwork({ clock: systemClock, rng: new Rng(stableSeed('fake timers')) })
    const end = network.makeEnd('end1-99')
    network.connect('end1-99', SERVER)

    const call = track(systemClock, end.call(echoMethod.fullName, echoMethod.request.encode(echoRequest({ text: 'disabled' }))))
    await Promise.resolve()
    t.notOk(call.settled(), 'the call waits for fake time')
    await fakeTime.tickAsync(100)
    t.ok(call.settled(), 'it has failed after 100 ms of fake time')
    t.ok(failedWith(await call.outcome, 'UNREACHABLE'), 'as UNREACHABLE')
  } finally {
    fakeTime.restore()
  }
})
