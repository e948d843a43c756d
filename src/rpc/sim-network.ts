// A simulated network with the fault model of MIT 6.5840's labrpc, on an injected clock and a
// seeded RNG: ends connect to servers and can be disabled; servers can be added, replaced and
// deleted; an unreliable network delays, drops requests and drops replies; long reordering delays
// replies; calls to unreachable servers fail after a random delay. Same seed, same run.

import type { Clock } from '../base/clock.js'
import { sleep } from '../base/clock.js'
import type { Rng } from '../base/rng.js'
import { assert } from '../base/assert.js'
import { RpcError } from './errors.js'
import { type CallContext, type Handler, HandlerTable, type ServiceAccess } from './transport.js'

/** How often a call in progress checks whether its server has died (labrpc: 100 ms). */
const SERVER_DEATH_POLL_MS = 100

/**
 * The steps of a call: `submit` (every call), then `unreachable` (the end is disabled or its server
 * is missing), `drop-request` (unreliable network) or `dispatch` (handed to the server); after
 * dispatch, `server-died` (deleted, replaced or cut off meanwhile), `drop-reply` (the handler ran but
 * its reply is lost) or `deliver`, after a `delay-reply` when long reordering holds the reply back.
 */
export type SimEventKind = 'submit' | 'unreachable' | 'drop-request' | 'dispatch' | 'server-died' | 'drop-reply' | 'delay-reply' | 'deliver'

/** One step of one call on the simulated network, for traces and determinism checks. */
export interface SimEvent {
  /** When, on the network's clock. */
  readonly timeMs: number
  readonly kind: SimEventKind
  /** The name of the calling end. */
  readonly end: string
  /** "Service.Method". */
  readonly method: string
  /** Request bytes for submit, reply bytes for deliver; 0 otherwise. */
  readonly bytes: number
  /** For delay-reply: how long the reply is held back. */
  readonly delayMs: number
}

/** What a SimNetwork runs on; SimWorld supplies its own clock and a fork of its RNG. */
export interface SimNetworkOptions {
  /** Delays, drops and timeouts are measured on it: a VirtualClock for deterministic runs. */
  clock: Clock
  /** Every random choice of the network draws from it, so the same seed makes the same faults. */
  rng: Rng
  /** Sees every network event, in order: for traces and determinism checks. */
  onEvent?: (event: SimEvent) => void
}

/** A server: a set of services and a count of the RPCs dispatched to it. */
export class SimServer {
  private readonly handlers = new HandlerTable()
  private dispatched = 0
  private stopped = false

  /**
   * Serves `Service.Method` for each method in `handlers`. `access.peersOnly` is not enforced here:
   * on the simulated network every caller counts as a peer.
   */
  register(service: string, handlers: Readonly<Record<string, Handler>>, access?: ServiceAccess): void {
    this.handlers.register(service, handlers, access)
  }

  /** RPCs dispatched to this server's handlers (not those lost before reaching it). */
  get rpcCount(): number {
    return this.dispatched
  }

  /** Stops serving, for good: the network treats the server as deleted (see SimNetwork.deleteServer). */
  close(): void {
    this.stopped = true
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.stopped
  }

  /** @internal Runs the handler for `method`; a client (`callerIsPeer` false) gets no peer-only one. */
  async dispatch(method: string, request: Uint8Array, context: CallContext, callerIsPeer: boolean): Promise<Uint8Array> {
    this.dispatched++
    const handle = this.handlers.lookup(method, callerIsPeer)
    if (!handle) throw new RpcError('NO_HANDLER', `no handler for ${method}${callerIsPeer ? '' : ' for clients'}`, undefined, method)
    return handle(request, context)
  }
}

interface EndState {
  enabled: boolean
  serverName: string | null
}

const DELETED_END: Readonly<EndState> = Object.freeze({ enabled: false, serverName: null })

type HandlerOutcome = { ok: true; reply: Uint8Array } | { ok: false; error: unknown }

/** The client side of a connection to one server. */
export class SimClientEnd {
  constructor(
    private readonly network: SimNetwork,
    readonly name: string,
    /** The node that owns this end, passed to handlers as CallContext.from. */
    readonly owner: string,
    /** Calls on this end come from a member of the servers' cluster, whom peer-only services serve. */
    readonly asPeer: boolean,
  ) {}

  /** Resolves with the reply, or rejects with RpcError (LOST, UNREACHABLE, REMOTE, NO_HANDLER). */
  call(method: string, request: Uint8Array): Promise<Uint8Array> {
    return this.network.process(this, method, request)
  }
}

/**
 * labrpc's network on an injected clock: named client ends connect to named servers. A test
 * partitions by disabling ends, crashes a server by deleting or replacing it, and turns on
 * unreliability, long delays and long reordering; every random choice draws on the given RNG, so
 * the same seed gives the same run. Calls reject with RpcError (UNREACHABLE, LOST, REMOTE,
 * NO_HANDLER) and never time out by themselves: give the transport a timeout for that.
 */
export class SimNetwork {
  private readonly clock: Clock
  private readonly rng: Rng
  private readonly onEvent: ((event: SimEvent) => void) | undefined
  private readonly ends = new Map<string, EndState>()
  private readonly servers = new Map<string, SimServer | null>()
  private reliable = true
  private longDelays = false
  private longReordering = false
  private latencyMinMs = 0
  private latencyMaxMs = 0
  private rpcTotal = 0
  private byteTotal = 0

  constructor(options: SimNetworkOptions) {
    this.clock = options.clock
    this.rng = options.rng
    this.onEvent = options.onEvent
  }

  /** Forgets an end (a client that went away); calls still in flight on it fail. */
  deleteEnd(name: string): void {
    this.ends.delete(name)
  }

  /**
   * A new end called `name` (which must be unused), connected to no server and disabled: connect
   * and enable it before calls can get through. `owner` is what handlers see as CallContext.from.
   * Give `asPeer` to the ends cluster members use to reach each other: without it the end is a
   * client's, refused by peer-only services (Raft's) with NO_HANDLER, as TcpTransport refuses a
   * connection that did not join as a member.
   */
  makeEnd(name: string, owner = name, options: { asPeer?: boolean } = {}): SimClientEnd {
    assert(!this.ends.has(name), () => `end ${name} already exists`)
    this.ends.set(name, { enabled: false, serverName: null })
    return new SimClientEnd(this, name, owner, options.asPeer ?? false)
  }

  /** Points an end at the server called `serverName`; until that server exists, calls are unreachable. */
  connect(endName: string, serverName: string): void {
    this.endState(endName).serverName = serverName
  }

  /**
   * Enables or disables an end. Calls on a disabled end fail UNREACHABLE after a random delay, and
   * calls in flight on it fail LOST, as if the server had died.
   */
  enable(endName: string, enabled: boolean): void {
    this.endState(endName).enabled = enabled
  }

  /** Adds or replaces the server called `name`; a replaced server's replies are never delivered. */
  addServer(name: string, server: SimServer): void {
    this.servers.set(name, server)
  }

  /** Kills the server: calls in progress on it fail, and its replies are never delivered. */
  deleteServer(name: string): void {
    this.servers.set(name, null)
  }

  /**
   * Unreliable (`false`): each request is delayed up to 26 ms, and 10% of requests and 10% of replies
   * are dropped (a dropped reply's request did run). Default reliable.
   */
  setReliable(reliable: boolean): void {
    this.reliable = reliable
  }

  /** Calls to unreachable servers take up to 7 s to fail, instead of up to 100 ms. */
  setLongDelays(longDelays: boolean): void {
    this.longDelays = longDelays
  }

  /**
   * Delays every delivered request by [minMs, maxMs] on top of the labrpc model (whose reliable
   * network has no delay at all). Default 0: labrpc exactly. Tests of services whose clients loop
   * as fast as replies come set a little latency, standing in for the time real execution takes,
   * so that virtual time advances while they run.
   */
  setLatency(minMs: number, maxMs: number): void {
    assert(minMs >= 0 && maxMs >= minMs, () => `bad latency range [${minMs}, ${maxMs}]`)
    this.latencyMinMs = minMs
    this.latencyMaxMs = maxMs
  }

  /** Two thirds of replies are held back by 200–2200 ms, so they arrive out of order. Default off. */
  setLongReordering(longReordering: boolean): void {
    this.longReordering = longReordering
  }

  /** RPCs dispatched to the server's handlers. */
  serverRpcCount(serverName: string): number {
    return this.servers.get(serverName)?.rpcCount ?? 0
  }

  /** Every request submitted, delivered or not. */
  get totalRpcs(): number {
    return this.rpcTotal
  }

  /** Request bytes at submission plus reply bytes at delivery. */
  get totalBytes(): number {
    return this.byteTotal
  }

  /** @internal The life of one call, following labrpc's processReq. */
  async process(end: SimClientEnd, method: string, request: Uint8Array): Promise<Uint8Array> {
    this.rpcTotal++
    this.byteTotal += request.length
    this.emit('submit', end.name, method, request.length)
    // Copy, as labrpc encodes and decodes: neither side can see the other's later mutations.
    const requestCopy = request.slice()
    const state = this.ends.get(end.name) ?? DELETED_END
    const serverName = state.serverName
    const server = serverName === null ? undefined : this.servers.get(serverName)
    const reliable = this.reliable
    const longReordering = this.longReordering

    if (!state.enabled || serverName === null || !server || server.closed) {
      const delayMs = this.longDelays ? this.rng.int(7000) : this.rng.int(100)
      await sleep(this.clock, delayMs)
      this.emit('unreachable', end.name, method, 0)
      throw new RpcError('UNREACHABLE', `end ${end.name} cannot reach ${serverName ?? 'any server'}`, serverName ?? undefined, method)
    }

    if (this.latencyMaxMs > 0) await sleep(this.clock, this.latencyMinMs + this.rng.int(this.latencyMaxMs - this.latencyMinMs + 1))
    if (!reliable) {
      await sleep(this.clock, this.rng.int(27))
      if (this.rng.int(1000) < 100) {
        this.emit('drop-request', end.name, method, 0)
        throw new RpcError('LOST', `request to ${serverName} dropped`, serverName, method)
      }
    }

    this.emit('dispatch', end.name, method, 0)
    const outcome = await this.awaitHandler(server.dispatch(method, requestCopy, { from: end.owner }, end.asPeer), end.name, serverName, server)
    if (outcome === 'server-died' || this.isServerDead(end.name, serverName, server)) {
      this.emit('server-died', end.name, method, 0)
      throw new RpcError('LOST', `server ${serverName} died during the call`, serverName, method)
    }
    if (!reliable && this.rng.int(1000) < 100) {
      this.emit('drop-reply', end.name, method, 0)
      throw new RpcError('LOST', `reply from ${serverName} dropped`, serverName, method)
    }
    if (longReordering && this.rng.int(900) < 600) {
      const delayMs = 200 + this.rng.int(1 + this.rng.int(2000))
      this.emit('delay-reply', end.name, method, 0, delayMs)
      await sleep(this.clock, delayMs)
    }
    const replyBytes = outcome.ok ? outcome.reply.length : 0
    this.byteTotal += replyBytes
    this.emit('deliver', end.name, method, replyBytes)
    if (!outcome.ok) throw outcome.error instanceof RpcError ? outcome.error : remoteError(outcome.error, serverName, method)
    return outcome.reply.slice()
  }

  /** Waits for the handler, giving up if the server dies meanwhile (checked every 100 ms). */
  private awaitHandler(handling: Promise<Uint8Array>, endName: string, serverName: string, server: SimServer): Promise<HandlerOutcome | 'server-died'> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.isServerDead(endName, serverName, server)) resolve('server-died')
        else poll = this.clock.setTimeout(check, SERVER_DEATH_POLL_MS)
      }
      let poll = this.clock.setTimeout(check, SERVER_DEATH_POLL_MS)
      handling.then(
        (reply) => {
          this.clock.clearTimeout(poll)
          resolve({ ok: true, reply })
        },
        (error: unknown) => {
          this.clock.clearTimeout(poll)
          resolve({ ok: false, error })
        },
      )
    })
  }

  private isServerDead(endName: string, serverName: string, server: SimServer): boolean {
    return !(this.ends.get(endName)?.enabled ?? false) || this.servers.get(serverName) !== server || server.closed
  }

  private endState(endName: string): EndState {
    const state = this.ends.get(endName)
    assert(state, () => `unknown end ${endName}`)
    return state
  }

  private emit(kind: SimEventKind, end: string, method: string, bytes: number, delayMs = 0): void {
    this.onEvent?.({ timeMs: this.clock.now(), kind, end, method, bytes, delayMs })
  }
}

function remoteError(error: unknown, serverName: string, method: string): RpcError {
  const message = error instanceof Error ? error.message : String(error)
  return new RpcError('REMOTE', `${serverName} failed ${method}: ${message}`, serverName, method)
}
