// A simulated Raft-replicated KV cluster for tests, equivalent to the MIT 6.5840 kvraft lab's
// config.go: servers (Raft + the KV state machine + the KV service) that can be partitioned, shut
// down and restarted from their stores, and clerks connected to any subset of servers.

import { MemoryLevel } from 'memory-level'
import type { LevelDatabase } from '../log/log-store.js'
import { LogStore } from '../log/log-store.js'
import type { SimClientEnd } from '../rpc/sim-network.js'
import { SimServer } from '../rpc/sim-network.js'
import { SimTransport } from '../rpc/sim-transport.js'
import { RaftNode, type RaftNodeOptions } from '../raft/node.js'
import type { SimWorld } from '../sim/world.js'
import { KvClerk } from '../statemachine/kv-clerk.js'
import { type KvReplica, KvService } from '../statemachine/kv-service.js'
import { kvMachine } from '../statemachine/kv.js'
import { ReplicatedStateMachine } from '../statemachine/runtime.js'
import { silentLogger } from '../util/logger.js'

export interface KvClusterOptions {
  servers: number
  unreliable?: boolean
  /** Snapshot when a server's raft state reaches this many bytes; omit for no snapshots. */
  maxRaftStateBytes?: number
  /** Per-request network latency [min, max] ms; see SimNetwork.setLatency. */
  latencyMs?: readonly [number, number]
  node?: Partial<RaftNodeOptions>
}

interface RunningServer {
  readonly raft: RaftNode
  readonly replica: KvReplica
}

interface ClientEnds {
  /** The clerk's end to each server, by server index. */
  readonly ends: ReadonlyMap<number, SimClientEnd>
}

export class KvCluster {
  readonly size: number
  readonly servers: Array<RunningServer | null>
  private readonly world: SimWorld
  private readonly options: KvClusterOptions
  private readonly databases: LevelDatabase[]
  /** ends[i][j]: server i's end to server j (fresh on each start of i). */
  private readonly ends: Array<Map<number, SimClientEnd>>
  /** connected[i][j]: whether server i may talk to server j (the harness's partition state). */
  private readonly links: boolean[][]
  private readonly clients = new Map<KvClerk, ClientEnds>()
  private generation = 0
  private nextClient = 0

  private constructor(world: SimWorld, options: KvClusterOptions) {
    this.world = world
    this.options = options
    this.size = options.servers
    this.servers = Array.from({ length: this.size }, () => null)
    this.databases = Array.from({ length: this.size }, () => new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' }))
    this.ends = Array.from({ length: this.size }, () => new Map())
    this.links = Array.from({ length: this.size }, () => Array.from({ length: this.size }, () => false))
    world.network.setReliable(!options.unreliable)
    const [minMs, maxMs] = options.latencyMs ?? [0, 0]
    world.network.setLatency(minMs, maxMs)
  }

  static async create(world: SimWorld, options: KvClusterOptions): Promise<KvCluster> {
    const cluster = new KvCluster(world, options)
    for (let i = 0; i < cluster.size; i++) await cluster.startServer(i)
    cluster.connectAll()
    return cluster
  }

  static serverName(i: number): string {
    return `kv${i}`
  }

  all(): number[] {
    return Array.from({ length: this.size }, (_, i) => i)
  }

  // ---------------------------------------------------------------- servers

  /** Crashes server i: it stops at once and keeps only what reached its store. */
  shutdownServer(i: number): void {
    this.disconnect(i, this.all())
    this.world.network.deleteServer(KvCluster.serverName(i))
    const running = this.servers[i]
    this.servers[i] = null
    running?.raft.kill()
  }

  /** (Re)starts server i from its store. Its links to other servers are as the partition left them. */
  async startServer(i: number): Promise<void> {
    this.shutdownServer(i)
    const self = KvCluster.serverName(i)
    const generation = this.generation++
    const ends = new Map<number, SimClientEnd>()
    const endsByPeer = new Map<string, SimClientEnd>()
    for (let j = 0; j < this.size; j++) {
      const end = this.world.network.makeEnd(`${self}->kv${j}#${generation}`, self)
      this.world.network.connect(end.name, KvCluster.serverName(j))
      ends.set(j, end)
      endsByPeer.set(KvCluster.serverName(j), end)
    }
    this.ends[i] = ends
    const store = await LogStore.open(this.databases[i] as LevelDatabase, { name: self })
    const server = new SimServer()
    const transport = new SimTransport({ self, server, ends: endsByPeer, clock: this.world.clock })
    const rng = this.world.rng.fork()
    const raft = await RaftNode.create({
      id: self,
      members: this.all().map(KvCluster.serverName),
      transport,
      store,
      clock: this.world.clock,
      random: () => rng.float(),
      logger: silentLogger,
      ...this.options.node,
    })
    const replica: KvReplica = new ReplicatedStateMachine({
      raft,
      machine: kvMachine({ appendReturnsOldValue: false }),
      ...(this.options.maxRaftStateBytes === undefined ? {} : { maxRaftStateBytes: this.options.maxRaftStateBytes }),
      clock: this.world.clock,
      wallClockMs: () => this.world.clock.now(),
      logger: silentLogger,
    })
    new KvService(replica).register(transport)
    replica.start()
    this.servers[i] = { raft, replica }
    this.world.network.addServer(self, server)
    this.applyLinks(i)
  }

  /** Server-to-server links: `from` can talk with each of `to` (both directions). */
  connect(from: number, to: readonly number[]): void {
    for (const j of to) {
      ;(this.links[from] as boolean[])[j] = true
      ;(this.links[j] as boolean[])[from] = true
      this.setEnd(from, j, true)
      this.setEnd(j, from, true)
    }
  }

  disconnect(from: number, to: readonly number[]): void {
    for (const j of to) {
      ;(this.links[from] as boolean[])[j] = false
      ;(this.links[j] as boolean[])[from] = false
      this.setEnd(from, j, false)
      this.setEnd(j, from, false)
    }
  }

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

  /** The lab's make_partition: a majority without the current leader, and a minority with it. */
  makePartition(): [number[], number[]] {
    const leader = this.leader() ?? 0
    const majority: number[] = []
    const minority: number[] = []
    for (let i = 0; i < this.size; i++) {
      if (i === leader) continue
      if (majority.length < Math.floor(this.size / 2) + 1) majority.push(i)
      else minority.push(i)
    }
    minority.push(leader)
    return [majority, minority]
  }

  leader(): number | null {
    for (let i = 0; i < this.size; i++) if (this.servers[i]?.raft.status().role === 'leader') return i
    return null
  }

  // ---------------------------------------------------------------- clients

  /** A clerk with ends to every server, enabled for those in `to`. */
  makeClient(to: readonly number[]): KvClerk {
    const name = `client${this.nextClient++}`
    const ends = new Map<number, SimClientEnd>()
    const endsByServer = new Map<string, SimClientEnd>()
    for (let i = 0; i < this.size; i++) {
      const end = this.world.network.makeEnd(`${name}->kv${i}`, name)
      this.world.network.connect(end.name, KvCluster.serverName(i))
      ends.set(i, end)
      endsByServer.set(KvCluster.serverName(i), end)
    }
    const rng = this.world.rng.fork()
    const clerk = new KvClerk({
      transport: new SimTransport({ self: name, server: new SimServer(), ends: endsByServer, clock: this.world.clock }),
      servers: this.all().map(KvCluster.serverName),
      random: () => rng.float(),
      clock: this.world.clock,
    })
    this.clients.set(clerk, { ends })
    this.connectClient(clerk, to)
    return clerk
  }

  connectClient(clerk: KvClerk, to: readonly number[]): void {
    const client = this.clients.get(clerk)
    if (!client) return
    for (const [i, end] of client.ends) this.world.network.enable(end.name, to.includes(i))
  }

  deleteClient(clerk: KvClerk): void {
    const client = this.clients.get(clerk)
    if (!client) return
    for (const end of client.ends.values()) this.world.network.deleteEnd(end.name)
    this.clients.delete(clerk)
  }

  // ---------------------------------------------------------------- observations

  /** Largest raft state (hard state + retained log) among running servers, in bytes. */
  logSize(): number {
    return Math.max(0, ...this.servers.map((server) => server?.raft.sizes().raftStateBytes ?? 0))
  }

  /** Largest snapshot among running servers, in bytes. */
  snapshotSize(): number {
    return Math.max(0, ...this.servers.map((server) => server?.raft.sizes().snapshotBytes ?? 0))
  }

  rpcTotal(): number {
    return this.world.network.totalRpcs
  }

  cleanup(): void {
    for (let i = 0; i < this.size; i++) this.shutdownServer(i)
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
