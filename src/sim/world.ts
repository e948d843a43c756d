// A simulated world for one seed: virtual clock, seeded RNG and a labrpc-style network, plus
// helpers to give nodes Transports on it. Tests and embedders build their clusters on this.

import { SimNetwork, SimServer, type SimClientEnd, type SimEvent } from '../rpc/sim-network.js'
import { SimTransport } from '../rpc/sim-transport.js'
import { Rng } from '../base/rng.js'
import { type RunLimits, VirtualClock } from './virtual-clock.js'

/** How to make a SimWorld. */
export interface SimWorldOptions {
  /** Any safe integer. Everything random in the world derives from it: the same seed, the same run. */
  seed: number
  /** Record every network event in `trace`. */
  trace?: boolean
}

/**
 * One simulated run: a virtual clock, an RNG seeded with `seed` and a network that draws on it.
 * Build the cluster and drive it inside `run`, taking all randomness from `rng`, and the run is a
 * function of the seed alone, so a failing seed replays exactly.
 */
export class SimWorld {
  readonly seed: number
  readonly clock = new VirtualClock()
  /** The run's randomness; give each consumer its own `rng.fork()` so one's draws do not shift another's. */
  readonly rng: Rng
  readonly network: SimNetwork
  /** Every network event in order, when the world was made with `trace: true`; empty otherwise. */
  readonly trace: SimEvent[] = []
  private endGeneration = 0

  constructor(options: SimWorldOptions) {
    this.seed = options.seed
    this.rng = new Rng(options.seed)
    const record = options.trace ? (event: SimEvent) => this.trace.push(event) : undefined
    this.network = new SimNetwork({ clock: this.clock, rng: this.rng.fork(), ...(record ? { onEvent: record } : {}) })
  }

  /** Runs `scenario` on virtual time (see VirtualClock.run). */
  run<T>(scenario: (world: SimWorld) => Promise<T>, limits?: RunLimits): Promise<T> {
    return this.clock.run(() => scenario(this), limits)
  }

  /**
   * A fresh server named `self` plus a fresh, enabled end to each peer's server, calling as a peer
   * (a member of their cluster, served by peer-only services). Call again to model a restart: the
   * old server is replaced, so its late replies are never delivered.
   */
  attachNode(self: string, peers: readonly string[], options: { defaultTimeoutMs?: number } = {}): NodeAttachment {
    const server = new SimServer()
    this.network.addServer(self, server)
    const generation = this.endGeneration++
    const ends = new Map<string, SimClientEnd>()
    for (const peer of peers) {
      const end = this.network.makeEnd(`${self}->${peer}#${generation}`, self, { asPeer: true })
      this.network.connect(end.name, peer)
      this.network.enable(end.name, true)
      ends.set(peer, end)
    }
    const transport = new SimTransport({ self, server, ends, clock: this.clock, ...options })
    return { transport, server, ends }
  }
}

/** A node's place on the simulated network, from SimWorld.attachNode. */
export interface NodeAttachment {
  /** What the node sends and serves through (e.g. a RaftNode's `transport`). */
  transport: SimTransport
  /** The node's server on the network, under its name; the transport registers services on it. */
  server: SimServer
  /** This node's end to each peer, by peer name. */
  ends: ReadonlyMap<string, SimClientEnd>
}
