// A Raft replica group on the simulated network, for tests: servers running any state machine
// that can be partitioned, shut down and restarted from their stores (a restart keeps only what
// reached the server's LogStore), as the MIT 6.5840 kvraft and shardkv harnesses do.

import { MemoryLevel } from 'memory-level'
import type { LevelDatabase } from '../log/log-store.js'
import { LogStore } from '../log/log-store.js'
import type { SimClientEnd } from '../rpc/sim-network.js'
import { SimServer } from '../rpc/sim-network.js'
import { SimTransport } from '../rpc/sim-transport.js'
import type { MembershipChange } from '../raft/membership.js'
import { type MembershipState, RaftNode, type RaftNodeOptions } from '../raft/node.js'
import type { SimWorld } from '../sim/world.js'
import { ReplicatedStateMachine } from '../statemachine/runtime.js'
import type { StateMachine } from '../statemachine/types.js'
import { silentLogger } from '../base/logger.js'
import { changeMembershipThroughLeader } from './membership-driver.js'

/** A server of a ReplicaGroup while it runs, for a test to inspect or drive; a restart makes a new one. */
export interface RunningReplica<State, Command, Result> {
  /** Its index in the group, 0 .. size-1. */
  readonly index: number
  /** Its name on the network and Raft id. */
  readonly name: string
  readonly raft: RaftNode
  readonly replica: ReplicatedStateMachine<State, Command, Result>
  readonly transport: SimTransport
  readonly store: LogStore
  /** Stops what `attach` started alongside the replica. */
  readonly detach: () => void
}

/** How to build a ReplicaGroup. */
export interface ReplicaGroupOptions<State, Command, Result> {
  world: SimWorld
  /** Server i is called `${namePrefix}${i}` on the network. */
  namePrefix: string
  /** How many servers. */
  size: number
  /** The machine every server replicates. */
  machine: StateMachine<State, Command, Result>
  /** Snapshot when a server's raft state reaches this many bytes; omit for no snapshots. */
  maxRaftStateBytes?: number
  /** Extra Raft node options (timing etc.) for every server. */
  node?: Partial<RaftNodeOptions>
  /**
   * Runs on every (re)start of a server, before its replica starts: register its services, start
   * its background work. Returns how to stop that work when the server is shut down.
   */
  attach?: (server: Omit<RunningReplica<State, Command, Result>, 'detach'>) => (() => void) | void
  /** Let servers call any other server on the network (other groups, a controller), not only their peers. */
  reachOutside?: boolean
  /**
   * How many servers found the group (0 .. founders-1 are the voters of its first configuration);
   * the others start knowing no configuration, waiting to be added. Default: all of them.
   */
  founders?: number
}

/**
 * A Raft replica group running any StateMachine on a SimWorld's network, for tests: servers, known
 * by index, that a test partitions, crashes and restarts from their stores (a restart keeps only
 * what reached the server's LogStore), as the MIT 6.5840 kvraft and shardkv harnesses do. Nothing
 * runs until startAll.
 */
export class ReplicaGroup<State, Command, Result> {
  readonly size: number
  /** Running servers by index; null while a server is shut down. */
  readonly servers: Array<RunningReplica<State, Command, Result> | null>
  private readonly world: SimWorld
  private readonly options: ReplicaGroupOptions<State, Command, Result>
  private readonly databases: LevelDatabase[]
  /** ends[i][j]: server i's end to server j (fresh on each start of i). */
  private readonly ends: Array<Map<number, SimClientEnd>>
  /** links[i][j]: whether server i may talk to server j (the harness's partition state). */
  private readonly links: boolean[][]
  private generation = 0

  constructor(options: ReplicaGroupOptions<State, Command, Result>) {
    this.world = options.world
    this.options = options
    this.size = options.size
    this.servers = Array.from({ length: this.size }, () => null)
    this.databases = Array.from({ length: this.size }, () => new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }))
    this.ends = Array.from({ length: this.size }, () => new Map())
    this.links = Array.from({ length: this.size }, () => Array.from({ length: this.size }, () => false))
  }

  /** Starts every server and connects them all. */
  async startAll(): Promise<void> {
    for (let i = 0; i < this.size; i++) await this.startServer(i)
    this.connectAll()
  }

  /** Server i's name on the network and Raft id. */
  serverName(i: number): string {
    return `${this.options.namePrefix}${i}`
  }

  /** Every server's name, by index: a clerk's `servers`. */
  serverNames(): string[] {
    return this.all().map((i) => this.serverName(i))
  }

  /**
   * A transport for a client called `name`, with an end to every server (by index) that reaches
   * nothing until enableClientEnds lets it. Clients' ends are not peers: Raft refuses them.
   */
  protected switchableClient(name: string): { transport: SimTransport; ends: ReadonlyMap<number, SimClientEnd> } {
    const ends = new Map<number, SimClientEnd>()
    const endsByServer = new Map<string, SimClientEnd>()
    for (let i = 0; i < this.size; i++) {
      const end = this.world.network.makeEnd(`${name}->${this.serverName(i)}`, name)
      this.world.network.connect(end.name, this.serverName(i))
      ends.set(i, end)
      endsByServer.set(this.serverName(i), end)
    }
    return { transport: new SimTransport({ self: name, server: new SimServer(), ends: endsByServer, clock: this.world.clock }), ends }
  }

  /** Lets a client's ends (from switchableClient) reach exactly the servers in `to`. */
  protected enableClientEnds(ends: ReadonlyMap<number, SimClientEnd>, to: readonly number[]): void {
    for (const [i, end] of ends) this.world.network.enable(end.name, to.includes(i))
  }

  /** Every server index, 0 .. size-1. */
  all(): number[] {
    return Array.from({ length: this.size }, (_, i) => i)
  }

  /** Crashes server i: it stops at once and keeps only what reached its store. */
  shutdownServer(i: number): void {
    this.disconnect(i, this.all())
    this.world.network.deleteServer(this.serverName(i))
    const running = this.servers[i]
    this.servers[i] = null
    running?.detach()
    running?.raft.kill()
  }

  /** (Re)starts server i from its store. Its links to other servers stay as the partition left them. */
  async startServer(i: number): Promise<void> {
    this.shutdownServer(i)
    const self = this.serverName(i)
    const generation = this.generation++
    const ends = new Map<number, SimClientEnd>()
    const endsByPeer = new Map<string, SimClientEnd>()
    for (let j = 0; j < this.size; j++) {
      const end = this.world.network.makeEnd(`${self}->${this.serverName(j)}#${generation}`, self, { asPeer: true })
      this.world.network.connect(end.name, this.serverName(j))
      ends.set(j, end)
      endsByPeer.set(this.serverName(j), end)
    }
    this.ends[i] = ends
    const store = await LogStore.open(this.databases[i] as LevelDatabase, { name: self })
    const server = new SimServer()
    const transport = new SimTransport({
      self,
      server,
      ends: endsByPeer,
      clock: this.world.clock,
      ...(this.options.reachOutside ? { endFor: (peer: string) => this.outsideEnd(self, generation, peer) } : {}),
    })
    const rng = this.world.rng.fork()
    const founders = this.options.founders ?? this.size
    const raft = await RaftNode.create({
      id: self,
      members: i < founders ? this.serverNames().slice(0, founders) : [],
      transport,
      store,
      clock: this.world.clock,
      random: () => rng.float(),
      logger: silentLogger,
      ...this.options.node,
    })
    const replica = new ReplicatedStateMachine({
      raft,
      machine: this.options.machine,
      ...(this.options.maxRaftStateBytes === undefined ? {} : { maxRaftStateBytes: this.options.maxRaftStateBytes }),
      clock: this.world.clock,
      wallClockMs: () => this.world.clock.now(),
      logger: silentLogger,
    })
    const detach = this.options.attach?.({ index: i, name: self, raft, replica, transport, store }) ?? (() => {})
    replica.start()
    this.servers[i] = { index: i, name: self, raft, replica, transport, store, detach }
    this.world.network.addServer(self, server)
    this.applyLinks(i)
  }

  /** Server-to-server links: `from` can talk with each of `to` (both directions). */
  connect(from: number, to: readonly number[]): void {
    for (const j of to) this.setLink(from, j, true)
  }

  /** Cuts the links between `from` and each of `to` (both directions); clients are unaffected. */
  disconnect(from: number, to: readonly number[]): void {
    for (const j of to) this.setLink(from, j, false)
  }

  /** Heals every partition between servers. */
  connectAll(): void {
    for (let i = 0; i < this.size; i++) this.connect(i, this.all())
  }

  /** Servers in p1 talk only among themselves, as do servers in p2. Clients are unaffected. */
  partition(p1: readonly number[], p2: readonly number[]): void {
    for (const i of p1) {
      this.disconnect(i, p2)
      this.connect(i, p1)
    }
    for (const i of p2) {
      this.disconnect(i, p1)
      this.connect(i, p2)
    }
  }

  /** An enabled end from server `self` (in its `generation`) to a server outside the group, which it calls as a client. */
  private outsideEnd(self: string, generation: number, peer: string): SimClientEnd {
    const end = this.world.network.makeEnd(`${self}->${peer}#${generation}`, self)
    this.world.network.connect(end.name, peer)
    this.world.network.enable(end.name, true)
    return end
  }

  /** A transport for a client called `name`, with an enabled end to every server of the group. */
  clientTransport(name: string): SimTransport {
    const { transport, ends } = this.switchableClient(name)
    this.enableClientEnds(ends, this.all())
    return transport
  }

  /**
   * Makes a membership change through whichever server leads, retrying across leader changes for up
   * to `timeoutMs` of virtual time, and resolves once it has committed. Rejects with an error of
   * code ERR_MEMBERSHIP_TIMEOUT when time runs out, or at once with the MembershipChangeError of an
   * invalid change.
   */
  changeMembership(change: MembershipChange, timeoutMs = 10_000): Promise<MembershipState> {
    const running = (): RaftNode[] => this.servers.flatMap((server) => (server ? [server.raft] : []))
    return changeMembershipThroughLeader(running, this.world.clock, change, timeoutMs)
  }

  /** The lowest index of a running server that believes it leads, or null. Across a partition, more than one may. */
  leader(): number | null {
    for (let i = 0; i < this.size; i++) if (this.servers[i]?.raft.status().role === 'leader') return i
    return null
  }

  /** Largest raft state (hard state + retained log) among running servers, in bytes. */
  logSize(): number {
    return Math.max(0, ...this.servers.map((server) => server?.raft.sizes().raftStateBytes ?? 0))
  }

  /** Largest snapshot among running servers, in bytes. */
  snapshotSize(): number {
    return Math.max(0, ...this.servers.map((server) => server?.raft.sizes().snapshotBytes ?? 0))
  }

  /** Raft state plus snapshot bytes, summed over running servers. */
  totalStoredBytes(): number {
    let total = 0
    for (const server of this.servers) {
      if (!server) continue
      const sizes = server.raft.sizes()
      total += sizes.raftStateBytes + sizes.snapshotBytes
    }
    return total
  }

  /** Crashes every server (see shutdownServer). */
  shutdownAll(): void {
    for (let i = 0; i < this.size; i++) this.shutdownServer(i)
  }

  private setLink(from: number, to: number, linked: boolean): void {
    ;(this.links[from] as boolean[])[to] = linked
    ;(this.links[to] as boolean[])[from] = linked
    this.setEnd(from, to, linked)
    this.setEnd(to, from, linked)
  }

  private setEnd(from: number, to: number, enabled: boolean): void {
    const end = this.ends[from]?.get(to)
    if (end) this.world.network.enable(end.name, enabled)
  }

  /** A restarted server's fresh ends follow the links the harness last set. */
  private applyLinks(i: number): void {
    for (let j = 0; j < this.size; j++) {
      const linked = (this.links[i] as boolean[])[j] as boolean
      this.setEnd(i, j, linked)
      this.setEnd(j, i, linked)
    }
  }
}
