// The Transport conformance suite, exported the way abstract-level exports its own: give it your
// test framework and a factory of networks for your Transport, and it checks the promises Raft and
// every service rely on — replies reach their own callers, failures come back as the documented
// RpcError codes and never as a hang, peer-only services refuse clients, close() stops everything.
// The same scenarios run on virtual time (the simulated network) and on real time (TCP): the
// network says how its time passes, and the suite waits only on its clock or on its handlers.

import assert from 'node:assert/strict'
import type { Clock } from '../base/clock.js'
import { type RpcErrorCode, type Transport, isRpcError } from '../rpc/index.js'
import type { ConformanceHost } from './conformance-host.js'
import { ConformanceService, ECHO, FAIL, HOLD, PEER_ECHO, PEER_SERVICE, SERVICE, bytes, text } from './transport-conformance-service.js'

/** The network of one test: the members and clients it starts can reach each other by id. */
export interface ConformanceNetwork {
  /** The clock the network's transports keep time by; the suite measures and waits with it. */
  readonly clock: Clock
  /**
   * Runs `body` and resolves as it does, letting the network's time pass while it waits: a simulated
   * network drives its virtual clock until `body` settles; a real one just awaits it.
   */
  run<T>(body: () => Promise<T>): Promise<T>
  /**
   * Starts a transport for each of `ids`, the members of one cluster: each serves calls and calls
   * every other member by id, as a peer (so peer-only services serve it). Called once per network.
   */
  startMembers(ids: readonly string[]): Promise<Transport[]>
  /** Starts a transport for `id`, a client of the members (not one of them): it calls them by id. */
  startClient(id: string): Promise<Transport>
  /** Releases everything the network holds: closes every transport it started. */
  close(): Promise<void>
}

/** The Transport implementation under test. */
export interface TransportConformanceOptions {
  /** Names the implementation in every test's name, e.g. "TcpTransport (mutual TLS)". */
  readonly name: string
  /** A new network; every test gets its own. */
  createNetwork(): ConformanceNetwork | Promise<ConformanceNetwork>
}

/** Calls that should fail fast are given this timeout, so failing by TIMEOUT instead shows. */
const LONG_TIMEOUT_MS = 5000
/** How long a failure the transport knows about may take to come back (the simulated network's own delays are under 100 ms). */
const PROMPT_FAILURE_MS = 1000
/** close() must not wait for calls in flight or connections to drain. */
const PROMPT_CLOSE_MS = 100

type Fate = RpcErrorCode | 'ok' | 'not an RpcError' | 'still pending'

interface Member {
  readonly transport: Transport
  readonly service: ConformanceService
}

/** One test's members and clients on its network. */
class Cluster {
  readonly members = new Map<string, Member>()

  constructor(readonly network: ConformanceNetwork) {}

  member(id: string): Member {
    const member = this.members.get(id)
    assert.ok(member, `no member ${id}`)
    return member
  }

  async start(ids: readonly string[]): Promise<void> {
    const transports = await this.network.startMembers(ids)
    assert.equal(transports.length, ids.length, 'startMembers gives one transport per id')
    transports.forEach((transport, i) => {
      const id = ids[i] as string
      assert.equal(transport.self, id, 'a member transport is named by its id')
      this.members.set(id, { transport, service: new ConformanceService(transport) })
    })
  }

  /** How `call` ends, or 'still pending' if it has not within `limitMs` on the network's clock. */
  fateWithin(call: Promise<unknown>, limitMs: number): Promise<Fate> {
    const clock = this.network.clock
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => resolve('still pending'), limitMs)
      void fate(call).then((outcome) => {
        clock.clearTimeout(timer)
        resolve(outcome)
      })
    })
  }

  releaseAll(): void {
    for (const member of this.members.values()) member.service.releaseAll()
  }
}

async function fate(call: Promise<unknown>): Promise<Fate> {
  try {
    await call
    return 'ok'
  } catch (error) {
    return isRpcError(error) ? error.code : 'not an RpcError'
  }
}

/** Follows a call, so a test can ask whether it has settled yet and how. */
function track(call: Promise<Uint8Array>): { readonly fate: Promise<Fate>; settled(): boolean } {
  let settled = false
  // Reactions on the call itself: they run before anything awaited after the call settled.
  void call.then(
    () => (settled = true),
    () => (settled = true),
  )
  return { fate: fate(call), settled: () => settled }
}

/**
 * Declares, on `host`, the tests every Transport must pass, each named "<name>: <behaviour>". The
 * members of each test's network are called a, b and c; clients are named by the test.
 */
export function transportConformance(host: ConformanceHost, options: TransportConformanceOptions): void {
  const scenario = (behaviour: string, memberIds: readonly string[], body: (cluster: Cluster) => Promise<void>): void => {
    void host.test(`${options.name}: ${behaviour}`, async () => {
      const network = await options.createNetwork()
      const cluster = new Cluster(network)
      try {
        await network.run(async () => {
          await cluster.start(memberIds)
          await body(cluster)
        })
      } finally {
        // Held handlers would otherwise wait forever on the members the network now closes.
        cluster.releaseAll()
        await network.close()
      }
    })
  }

  scenario('a call reaches the handler, which sees who called, and the reply comes back', ['a', 'b'], async (cluster) => {
    const a = cluster.member('a')
    const b = cluster.member('b')
    const client = await cluster.network.startClient('client')

    assert.equal(text(await b.transport.call('a', ECHO, bytes('from b'))), 'from b')
    assert.equal(text(await a.transport.call('b', ECHO, bytes('from a'))), 'from a', 'members call each other both ways')
    assert.equal(text(await client.call('a', ECHO, bytes('from the client'))), 'from the client')

    assert.deepEqual(
      a.service.served.map((call) => [call.from, text(call.request)]),
      [
        ['b', 'from b'],
        ['client', 'from the client'],
      ],
    )
    assert.deepEqual(b.service.texts('Echo'), ['from a'])
  })

  scenario('an asynchronous handler replies when it finishes', ['a', 'b'], async (cluster) => {
    const a = cluster.member('a')
    const call = track(cluster.member('b').transport.call('a', HOLD, bytes('held')))
    await a.service.arrived('held')
    assert.equal(call.settled(), false, 'no reply while the handler has not finished')
    a.service.release('held')
    assert.equal(await call.fate, 'ok')
  })

  scenario('empty, binary and large payloads round-trip byte for byte', ['a', 'b'], async (cluster) => {
    const b = cluster.member('b')
    const payloads = [new Uint8Array(0), Uint8Array.from({ length: 256 }, (_, i) => i), pseudoRandomBytes(1024 * 1024)]
    for (const payload of payloads) {
      const reply = await b.transport.call('a', ECHO, payload)
      assert.equal(reply.length, payload.length)
      assert.ok(Buffer.from(reply).equals(Buffer.from(payload)), `a ${payload.length}-byte reply holds the bytes sent`)
    }
    const served = cluster.member('a').service.served
    assert.equal(served.length, payloads.length)
    served.forEach((call, i) =>
      assert.ok(Buffer.from(call.request).equals(Buffer.from(payloads[i] as Uint8Array)), `the handler got the ${call.request.length} bytes sent`),
    )
  })

  scenario('a request is the bytes at the time of the call: changing the buffer later changes nothing', ['a', 'b'], async (cluster) => {
    const request = bytes('original')
    const reply = cluster.member('b').transport.call('a', ECHO, request)
    request.set(bytes('mutated!'))
    assert.equal(text(await reply), 'original')
    assert.deepEqual(cluster.member('a').service.texts('Echo'), ['original'])
  })

  scenario('500 concurrent calls on one transport each get their own reply, in whatever order the handler finishes', ['a', 'b'], async (cluster) => {
    const a = cluster.member('a')
    const keys = Array.from({ length: 500 }, (_, i) => `call-${i}`)
    const arrivals: string[] = []
    const replies = keys.map((key) =>
      cluster
        .member('b')
        .transport.call('a', HOLD, bytes(key))
        .then((reply) => {
          arrivals.push(text(reply))
          return text(reply)
        }),
    )
    await Promise.all(keys.map((key) => a.service.arrived(key)))
    // Release in an order unrelated to the calls': replies must be matched by id, not by position.
    for (let i = 0; i < keys.length; i++) a.service.release(keys[(i * 7919) % keys.length] as string)

    assert.deepEqual(await Promise.all(replies), keys)
    assert.notDeepEqual(arrivals, keys, 'replies arrived in a different order than the calls were made')
    assert.deepEqual(a.service.texts('Hold').sort(), [...keys].sort(), 'the handler saw each request exactly once')
  })

  scenario('calls from many callers at once all succeed, each served once', ['a', 'b', 'c'], async (cluster) => {
    const clients = await Promise.all(Array.from({ length: 4 }, (_, i) => cluster.network.startClient(`client-${i}`)))
    const callers = [cluster.member('b').transport, cluster.member('c').transport, ...clients]
    const expected = callers.flatMap((caller) => Array.from({ length: 10 }, (_, j) => `${caller.self}.${j}`))

    const replies = await Promise.all(callers.flatMap((caller) => Array.from({ length: 10 }, (_, j) => caller.call('a', ECHO, bytes(`${caller.self}.${j}`)))))

    assert.deepEqual(replies.map(text), expected)
    const served = cluster.member('a').service.served
    assert.deepEqual(served.map((call) => text(call.request)).sort(), [...expected].sort(), 'the handler ran once per call')
    assert.ok(
      served.every((call) => text(call.request).startsWith(`${call.from}.`)),
      'each call was served as coming from its caller',
    )
  })

  scenario('an unknown method or service fails NO_HANDLER; a handler that throws fails REMOTE with its message', ['a', 'b'], async (cluster) => {
    const b = cluster.member('b').transport
    await assert.rejects(b.call('a', `${SERVICE}.Missing`, bytes('x')), isRpcFailure('NO_HANDLER'))
    await assert.rejects(b.call('a', 'Nobody.Echo', bytes('x')), isRpcFailure('NO_HANDLER'))
    await assert.rejects(b.call('a', FAIL, bytes('no')), isRpcFailure('REMOTE', /refusing "no"/))
    assert.equal(text(await b.call('a', ECHO, bytes('still serving'))), 'still serving', 'the failures did not break the connection')
  })

  scenario('a peer-only service serves members and refuses clients with NO_HANDLER', ['a', 'b'], async (cluster) => {
    const a = cluster.member('a')
    const client = await cluster.network.startClient('client')

    assert.equal(text(await cluster.member('b').transport.call('a', PEER_ECHO, bytes('peer'))), 'peer')
    await assert.rejects(client.call('a', PEER_ECHO, bytes('pretender')), isRpcFailure('NO_HANDLER'))
    assert.equal(text(await client.call('a', ECHO, bytes('open'))), 'open', 'the client may still call open services')

    assert.deepEqual(a.service.texts('PeerEcho'), ['peer'], `the ${PEER_SERVICE} handler never ran for the client`)
  })

  scenario('a call with no reply within its timeout fails TIMEOUT, and its late reply settles no other call', ['a', 'b'], async (cluster) => {
    const a = cluster.member('a')
    const b = cluster.member('b').transport
    const clock = cluster.network.clock
    const startedMs = clock.now()

    await assert.rejects(b.call('a', HOLD, bytes('slow'), { timeoutMs: 50 }), isRpcFailure('TIMEOUT'))
    const elapsedMs = clock.now() - startedMs
    assert.ok(elapsedMs < 200, `it failed ${elapsedMs} ms after the call, at its timeout`)
    const next = b.call('a', HOLD, bytes('next'))
    await a.service.arrived('next')
    // The late reply to 'slow' arrives while 'next' is in flight on the same transport.
    a.service.release('slow')
    assert.equal(await cluster.fateWithin(next, 50), 'still pending', "the late reply did not settle 'next'")
    a.service.release('next')

    assert.equal(text(await next), 'next')
    assert.deepEqual(a.service.texts('Hold'), ['slow', 'next'])
  })

  scenario('a call to a peer the transport cannot reach fails UNREACHABLE without waiting for its timeout', ['a', 'b'], async (cluster) => {
    const b = cluster.member('b').transport
    assert.equal(await cluster.fateWithin(b.call('nobody', ECHO, bytes('x'), { timeoutMs: LONG_TIMEOUT_MS }), PROMPT_FAILURE_MS), 'UNREACHABLE')
  })

  scenario('a closed member serves no more: its calls in flight fail as lost, new ones UNREACHABLE, none at the timeout', ['a', 'b'], async (cluster) => {
    const a = cluster.member('a')
    const b = cluster.member('b').transport
    const client = await cluster.network.startClient('client')
    assert.equal(text(await b.call('a', ECHO, bytes('before'))), 'before')

    const inFlight = b.call('a', HOLD, bytes('in flight'), { timeoutMs: LONG_TIMEOUT_MS })
    await a.service.arrived('in flight')
    await a.transport.close()

    const lost = await cluster.fateWithin(inFlight, PROMPT_FAILURE_MS)
    assert.ok(lost === 'LOST' || lost === 'CONNECTION_LOST', `the call in flight failed as ${lost}, not LOST or CONNECTION_LOST`)
    const later = await cluster.fateWithin(b.call('a', ECHO, bytes('after'), { timeoutMs: LONG_TIMEOUT_MS }), PROMPT_FAILURE_MS)
    assert.equal(later, 'UNREACHABLE', 'a member that was connected cannot reach it')
    const fresh = await cluster.fateWithin(client.call('a', ECHO, bytes('after'), { timeoutMs: LONG_TIMEOUT_MS }), PROMPT_FAILURE_MS)
    assert.equal(fresh, 'UNREACHABLE', 'nor can a client that never was')
    assert.deepEqual(a.service.texts('Echo'), ['before'], 'no handler ran after close')
  })

  scenario('closing a transport fails its calls in flight with CLOSED at once, and every later call', ['a', 'b'], async (cluster) => {
    const a = cluster.member('a')
    const b = cluster.member('b').transport
    const clock = cluster.network.clock
    const keys = ['held-0', 'held-1', 'held-2']
    const held = keys.map((key) => track(b.call('a', HOLD, bytes(key))))
    await Promise.all(keys.map((key) => a.service.arrived(key)))
    const client = await cluster.network.startClient('client')
    // Made just before close, so it is still on its way (TCP: still connecting).
    const unsent = track(client.call('a', ECHO, bytes('unsent')))

    const startedMs = clock.now()
    await client.close()
    await b.close()
    const closeMs = clock.now() - startedMs

    assert.ok(closeMs < PROMPT_CLOSE_MS, `closing both took ${closeMs} ms`)
    assert.ok(
      [...held, unsent].every((call) => call.settled()),
      'every call in flight has failed by the time close() resolves',
    )
    assert.deepEqual(await Promise.all([...held, unsent].map((call) => call.fate)), ['CLOSED', 'CLOSED', 'CLOSED', 'CLOSED'])
    await assert.rejects(b.call('a', ECHO, bytes('after close')), isRpcFailure('CLOSED'))
    await assert.rejects(client.call('a', ECHO, bytes('after close')), isRpcFailure('CLOSED'))
  })
}

/** An assert.rejects validator: an RpcError with `code` (and a message matching `message`). */
function isRpcFailure(code: RpcErrorCode, message?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isRpcError(error), `expected an RpcError ${code}, got ${String(error)}`)
    assert.equal(error.code, code, `expected ${code}: ${error.message}`)
    if (message) assert.match(error.message, message)
    return true
  }
}

/** Bytes no compression or framing shortcut can shrink, from a fixed seed. */
function pseudoRandomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length)
  let state = 0x2545f491
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    out[i] = state >>> 24
  }
  return out
}
