// A node's Transport on the simulated network: its own server for incoming calls and one client
// end per peer for outgoing ones. The test harness enables and disables the ends to partition.

import type { Clock, TimerHandle } from '../base/clock.js'
import { RpcError } from './errors.js'
import type { SimClientEnd, SimServer } from './sim-network.js'
import type { CallOptions, Handler, ServiceAccess, Transport } from './transport.js'

/** A node's server and ends on a SimNetwork; SimWorld.attachNode makes them for you. */
export interface SimTransportOptions {
  /** This node's id: its server's name on the network. */
  self: string
  /** Where `register` puts this node's services; the harness adds it to the network. */
  server: SimServer
  /** The end this node uses to reach each peer. */
  ends: ReadonlyMap<string, SimClientEnd>
  /** For peers not in `ends` (e.g. servers of other groups): an end made on first use, or undefined. */
  endFor?: (peer: string) => SimClientEnd | undefined
  /** Times calls' timeouts: the network's clock. */
  clock: Clock
  /** Applies when a call gives no timeout. Default: none (the network model decides). */
  defaultTimeoutMs?: number
}

/**
 * A node's Transport on the simulated network: incoming calls reach its SimServer, outgoing ones go
 * through its end to the peer, so they meet every fault the network models. It has no
 * localHandler: even a call to this node itself goes through an end.
 */
export class SimTransport implements Transport {
  readonly self: string
  private readonly server: SimServer
  private readonly ends: ReadonlyMap<string, SimClientEnd>
  private readonly endFor: ((peer: string) => SimClientEnd | undefined) | undefined
  private readonly madeEnds = new Map<string, SimClientEnd>()
  private readonly clock: Clock
  private readonly defaultTimeoutMs: number | undefined
  private closed = false
  /** Fails each call in flight with CLOSED; close() runs them. */
  private readonly inFlight = new Set<() => void>()

  constructor(options: SimTransportOptions) {
    this.self = options.self
    this.server = options.server
    this.ends = options.ends
    this.endFor = options.endFor
    this.clock = options.clock
    this.defaultTimeoutMs = options.defaultTimeoutMs
  }

  private madeEnd(peer: string): SimClientEnd | undefined {
    let end = this.madeEnds.get(peer)
    if (!end && this.endFor) {
      end = this.endFor(peer)
      if (end) this.madeEnds.set(peer, end)
    }
    return end
  }

  register(service: string, handlers: Readonly<Record<string, Handler>>, access?: ServiceAccess): void {
    this.server.register(service, handlers, access)
  }

  call(peer: string, method: string, request: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new RpcError('CLOSED', `transport of ${this.self} is closed`, peer, method))
    const end = this.ends.get(peer) ?? this.madeEnd(peer)
    if (!end) return Promise.reject(new RpcError('UNREACHABLE', `${this.self} has no end for peer ${peer}`, peer, method))
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs
    return new Promise((resolve, reject) => {
      let timer: { handle: TimerHandle } | null = null
      const settle = (): void => {
        if (timer) this.clock.clearTimeout(timer.handle)
        this.inFlight.delete(abort)
      }
      const fail = (error: unknown): void => {
        settle()
        reject(error)
      }
      const abort = (): void => fail(new RpcError('CLOSED', `transport of ${this.self} closed with the call in flight`, peer, method))
      this.inFlight.add(abort)
      if (timeoutMs !== undefined) {
        const timeout = (): void => fail(new RpcError('TIMEOUT', `${method} to ${peer} timed out after ${timeoutMs}ms`, peer, method))
        timer = { handle: this.clock.setTimeout(timeout, timeoutMs) }
      }
      end.call(method, request).then((reply) => {
        settle()
        resolve(reply)
      }, fail)
    })
  }

  /** Stops serving (calls to this node fail as they would if it crashed) and fails calls in flight with CLOSED. */
  async close(): Promise<void> {
    this.closed = true
    this.server.close()
    for (const abort of [...this.inFlight]) abort()
  }
}
