// A simulated Raft-replicated KV cluster for tests, equivalent to the MIT 6.5840 kvraft lab's
// config.go: a replica group running the KV state machine and service, and clerks connected to any
// subset of its servers.

import type { SimClientEnd } from '../rpc/sim-network.js'
import type { RaftNodeOptions } from '../raft/node.js'
import type { SimWorld } from '../sim/world.js'
import { KvClerk } from '../kv/kv-clerk.js'
import { KvService } from '../kv/kv-service.js'
import { type KvCommand, type KvResult, type KvState, kvMachine } from '../kv/kv.js'
import type { LocalMachine } from '../statemachine/machine-service.js'
import { ReplicaGroup } from './replica-group.js'

/** How to build a KvCluster. */
export interface KvClusterOptions {
  /** How many servers. */
  servers: number
  /** Drop and delay messages as labrpc's unreliable network does (set on the world's whole network). */
  unreliable?: boolean
  /** Snapshot when a server's raft state reaches this many bytes; omit for no snapshots. */
  maxRaftStateBytes?: number
  /** Per-request network latency [min, max] ms; see SimNetwork.setLatency. */
  latencyMs?: readonly [number, number]
  /** Extra Raft node options (timing etc.) for every server. */
  node?: Partial<RaftNodeOptions>
  /** How many servers found the cluster; the rest wait to be added (see ReplicaGroupOptions.founders). */
  founders?: number
}

/**
 * The MIT 6.5840 kvraft lab's config.go on a SimWorld: a ReplicaGroup running lograft's KV machine
 * and service (servers `kv0`, `kv1`, ...), and KvClerks connected to any subset of them. Create one
 * with KvCluster.create.
 */
export class KvCluster extends ReplicaGroup<KvState, KvCommand, KvResult> {
  private readonly simWorld: SimWorld
  /** Each clerk's end to each server, by server index. */
  private readonly clients = new Map<KvClerk, ReadonlyMap<number, SimClientEnd>>()
  private nextClient = 0
  /** Each running server's KV service, for clerks in its "process". */
  private readonly locals: ReadonlyMap<number, LocalMachine<KvCommand, KvResult>>

  private constructor(world: SimWorld, options: KvClusterOptions) {
    const locals = new Map<number, LocalMachine<KvCommand, KvResult>>()
    super({
      world,
      namePrefix: 'kv',
      size: options.servers,
      machine: kvMachine({ appendReturnsOldValue: false }),
      ...(options.maxRaftStateBytes === undefined ? {} : { maxRaftStateBytes: options.maxRaftStateBytes }),
      ...(options.node ? { node: options.node } : {}),
      ...(options.founders === undefined ? {} : { founders: options.founders }),
      attach: ({ index, replica, transport }) => {
        locals.set(index, new KvService(replica).register(transport))
        return () => locals.delete(index)
      },
    })
    this.locals = locals
    this.simWorld = world
    world.network.setReliable(!options.unreliable)
    const [minMs, maxMs] = options.latencyMs ?? [0, 0]
    world.network.setLatency(minMs, maxMs)
  }

  /** Starts every server, connected to each other. */
  static async create(world: SimWorld, options: KvClusterOptions): Promise<KvCluster> {
    const cluster = new KvCluster(world, options)
    await cluster.startAll()
    return cluster
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

  /**
   * A clerk with ends to every server, enabled for those in `to`. With `colocatedWith`, it runs in
   * that server's "process", as a node's RESP endpoint does: it calls that server's service
   * directly (whichever replica runs there now), reads first.
   */
  makeClient(to: readonly number[], options: { colocatedWith?: number } = {}): KvClerk {
    const { transport, ends } = this.switchableClient(`client${this.nextClient++}`)
    const rng = this.simWorld.rng.fork()
    const server = options.colocatedWith
    const clerk = new KvClerk({
      transport,
      servers: this.serverNames(),
      random: () => rng.float(),
      clock: this.simWorld.clock,
      ...(server === undefined ? {} : { local: this.colocated(server) }),
    })
    this.clients.set(clerk, ends)
    this.connectClient(clerk, to)
    return clerk
  }

  private colocated(server: number): LocalMachine<KvCommand, KvResult> {
    return {
      serverId: this.serverNames()[server] as string,
      answer: (call) => this.locals.get(server)?.answer(call) ?? Promise.resolve({ err: 'ErrWrongLeader', leaderHint: '' }),
    }
  }

  /** Lets `clerk` reach exactly the servers in `to`. */
  connectClient(clerk: KvClerk, to: readonly number[]): void {
    const ends = this.clients.get(clerk)
    if (ends) this.enableClientEnds(ends, to)
  }

  /** Removes the clerk's ends from the network: its calls in flight fail, and so do later ones. */
  deleteClient(clerk: KvClerk): void {
    const ends = this.clients.get(clerk)
    if (!ends) return
    for (const end of ends.values()) this.simWorld.network.deleteEnd(end.name)
    this.clients.delete(clerk)
  }

  /** Every request submitted on the world's whole network so far (clerks' and servers'), delivered or not. */
  rpcTotal(): number {
    return this.simWorld.network.totalRpcs
  }

  /** Crashes every server, at the end of a test. */
  cleanup(): void {
    this.shutdownAll()
  }
}
