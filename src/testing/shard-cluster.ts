// A simulated sharded-KV deployment for tests, equivalent to the MIT 6.5840 shardkv lab's
// config.go: a controller group and several replica groups on one simulated network, groups that
// join, leave, shut down and restart, and clerks that find keys through the controller.

import { SimServer } from '../rpc/sim-network.js'
import { SimTransport } from '../rpc/sim-transport.js'
import type { SimWorld } from '../sim/world.js'
import { type KeyToShard, firstByteShard } from '../shard/config.js'
import { type GroupCommand, type GroupResult, type GroupState, groupMachine } from '../shard/group-machine.js'
import { GroupServer, type TransferReport } from '../shard/group-server.js'
import { ShardClerk } from '../shard/shard-clerk.js'
import { controllerMachine } from '../shard/controller-machine.js'
import { MachineClerk } from '../statemachine/machine-clerk.js'
import { DEFAULT_SESSION_LIMITS } from '../statemachine/sessions.js'
import { silentLogger } from '../base/logger.js'
import { ControllerClerk, ControllerCluster } from './controller-cluster.js'
import { ReplicaGroup } from './replica-group.js'

export interface ShardClusterOptions {
  groups?: number
  serversPerGroup?: number
  controllerServers?: number
  shardCount?: number
  unreliable?: boolean
  /** Snapshot threshold for every group server; omit for no snapshots. */
  maxRaftStateBytes?: number
  /** Per-request network latency [min, max] ms; see SimNetwork.setLatency. */
  latencyMs?: readonly [number, number]
  keyToShard?: KeyToShard
  /** Every group server's maxMigrationBytesPerSecond; omit for no limit. */
  maxMigrationBytesPerSecond?: number
}

export class ShardCluster {
  readonly controller: ControllerCluster
  readonly groups: Array<ReplicaGroup<GroupState, GroupCommand, GroupResult>>
  readonly shardCount: number
  /** The administrator's controller clerk (the lab's mck). */
  readonly admin: ControllerClerk
  /** Every shard transfer a group server planned, in order. */
  readonly transfers: TransferReport[] = []
  private readonly world: SimWorld
  private readonly keyToShard: KeyToShard
  private nextClient = 0

  private constructor(world: SimWorld, options: ShardClusterOptions, controller: ControllerCluster) {
    this.world = world
    this.controller = controller
    this.shardCount = options.shardCount ?? 10
    this.keyToShard = options.keyToShard ?? firstByteShard
    this.admin = controller.makeClient()
    const controllerNames = controller.serverNames()
    this.groups = Array.from({ length: options.groups ?? 3 }, (_, gi) => {
      const gid = ShardCluster.gid(gi)
      return new ReplicaGroup<GroupState, GroupCommand, GroupResult>({
        world,
        namePrefix: `g${gid}-`,
        size: options.serversPerGroup ?? 3,
        machine: groupMachine({ gid, shardCount: this.shardCount, keyToShard: this.keyToShard, sessionLimits: DEFAULT_SESSION_LIMITS }),
        ...(options.maxRaftStateBytes === undefined ? {} : { maxRaftStateBytes: options.maxRaftStateBytes }),
        reachOutside: true,
        attach: ({ replica, transport, store }) => {
          const rng = world.rng.fork()
          const server = new GroupServer({
            replica,
            store,
            transport,
            controller: new ControllerClerk(
              new MachineClerk(controllerMachine(this.shardCount), {
                transport,
                servers: controllerNames,
                random: () => rng.float(),
                clock: world.clock,
                rpcTimeoutMs: 1000,
              }),
            ),
            clock: world.clock,
            wallClockMs: () => world.clock.now(),
            keyToShard: this.keyToShard,
            shardCount: this.shardCount,
            sessionLimits: DEFAULT_SESSION_LIMITS,
            logger: silentLogger,
            onTransferPlanned: (report) => this.transfers.push(report),
            ...(options.maxMigrationBytesPerSecond === undefined ? {} : { maxMigrationBytesPerSecond: options.maxMigrationBytesPerSecond }),
          })
          server.start()
          return () => server.stop()
        },
      })
    })
  }

  static gid(groupIndex: number): number {
    return 100 + groupIndex
  }

  static async create(world: SimWorld, options: ShardClusterOptions = {}): Promise<ShardCluster> {
    world.network.setReliable(!options.unreliable)
    const [minMs, maxMs] = options.latencyMs ?? [1, 5]
    world.network.setLatency(minMs, maxMs)
    const controller = await ControllerCluster.create(world, { servers: options.controllerServers ?? 3, shardCount: options.shardCount ?? 10 })
    const cluster = new ShardCluster(world, options, controller)
    for (const group of cluster.groups) await group.startAll()
    return cluster
  }

  join(groupIndex: number): Promise<unknown> {
    return this.joinMany([groupIndex])
  }

  joinMany(groupIndexes: readonly number[]): Promise<unknown> {
    const servers: Record<number, string[]> = {}
    for (const gi of groupIndexes) servers[ShardCluster.gid(gi)] = (this.groups[gi] as ReplicaGroup<GroupState, GroupCommand, GroupResult>).serverNames()
    return this.admin.join(servers)
  }

  leave(groupIndex: number): Promise<unknown> {
    return this.leaveMany([groupIndex])
  }

  leaveMany(groupIndexes: readonly number[]): Promise<unknown> {
    return this.admin.leave(groupIndexes.map(ShardCluster.gid))
  }

  group(groupIndex: number): ReplicaGroup<GroupState, GroupCommand, GroupResult> {
    return this.groups[groupIndex] as ReplicaGroup<GroupState, GroupCommand, GroupResult>
  }

  shutdownGroup(groupIndex: number): void {
    this.group(groupIndex).shutdownAll()
  }

  async startGroup(groupIndex: number): Promise<void> {
    await this.group(groupIndex).startAll()
  }

  shutdownServer(groupIndex: number, server: number): void {
    this.group(groupIndex).shutdownServer(server)
  }

  async startServer(groupIndex: number, server: number): Promise<void> {
    const group = this.group(groupIndex)
    await group.startServer(server)
    group.connectAll()
  }

  /** A clerk that can reach every server on the network. */
  makeClient(): ShardClerk {
    const transport = this.clientTransport()
    const rng = this.world.rng.fork()
    return new ShardClerk({
      controller: new ControllerClerk(
        new MachineClerk(controllerMachine(this.shardCount), {
          transport,
          servers: this.controller.serverNames(),
          random: () => rng.float(),
          clock: this.world.clock,
          rpcTimeoutMs: 1000,
        }),
      ),
      transport,
      shardCount: this.shardCount,
      keyToShard: this.keyToShard,
      random: () => rng.float(),
      clock: this.world.clock,
    })
  }

  /** A client's transport that can reach every server on the network (ends are made on first use). */
  clientTransport(): SimTransport {
    const name = `shard-client${this.nextClient++}`
    const network = this.world.network
    return new SimTransport({
      self: name,
      server: new SimServer(),
      ends: new Map(),
      clock: this.world.clock,
      endFor: (peer) => {
        const end = network.makeEnd(`${name}->${peer}`, name)
        network.connect(end.name, peer)
        network.enable(end.name, true)
        return end
      },
    })
  }

  /** Raft state plus snapshot bytes over every running group server. */
  totalStoredBytes(): number {
    return this.groups.reduce((total, group) => total + group.totalStoredBytes(), 0)
  }

  /** The largest raft state of any running group server. */
  largestLogBytes(): number {
    return Math.max(...this.groups.map((group) => group.logSize()))
  }

  largestSnapshotBytes(): number {
    return Math.max(...this.groups.map((group) => group.snapshotSize()))
  }

  cleanup(): void {
    for (const group of this.groups) group.shutdownAll()
    this.controller.shutdownAll()
  }
}
