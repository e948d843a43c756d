// A simulated cluster of any StateMachine, for embedders' tests as for ours: a replica group on the
// simulated network (labrpc faults: partitions, crash/restart keeping only what reached the store,
// an unreliable network, latency) serving the machine with serveMachine, and exactly-once
// MachineClerks connected to any subset of its servers.

import type { SimClientEnd } from '../rpc/sim-network.js'
import type { RaftNodeOptions } from '../raft/node.js'
import type { SimWorld } from '../sim/world.js'
import { MachineClerk } from '../statemachine/machine-clerk.js'
import { type MachineServiceOptions, serveMachine } from '../statemachine/machine-service.js'
import type { StateMachine } from '../statemachine/types.js'
import { ReplicaGroup } from './replica-group.js'

/** How to build a MachineCluster. */
export interface MachineClusterOptions<State, Command, Result> {
  /** The machine every server replicates and serves; its `name` prefixes the servers' names. */
  machine: StateMachine<State, Command, Result>
  /** How many servers (replicas). */
  servers: number
  /** Drop and delay messages as labrpc's unreliable network does (set on the world's whole network). */
  unreliable?: boolean
  /** Per-request latency [min, max] ms on top of the network model (lets virtual time pass while clients loop); set on the world's whole network. */
  latencyMs?: readonly [number, number]
  /** Snapshot when a server's raft state reaches this many bytes; omit for no snapshots. */
  maxRaftStateBytes?: number
  /** How many servers found the cluster; the rest wait to be added (membership tests). */
  founders?: number
  /** Commands the service refuses before they reach the log; see MachineServiceOptions.refuse. */
  refuse?: MachineServiceOptions<Command>['refuse']
  /** Extra Raft node options (timing etc.) for every server. */
  node?: Partial<RaftNodeOptions>
}

/**
 * A simulated cluster of your StateMachine, for your tests: a ReplicaGroup whose servers (named
 * `${machine.name}-${i}`) serve it with serveMachine, and exactly-once MachineClerks connected to any
 * subset of them. Partition, crash and restart servers through the ReplicaGroup methods, or let
 * startNemesis do it. Create one with MachineCluster.create, in a scenario on the world's virtual
 * time (SimWorld.run or simTest).
 */
export class MachineCluster<State, Command, Result> extends ReplicaGroup<State, Command, Result> {
  private readonly simWorld: SimWorld
  private readonly machine: StateMachine<State, Command, Result>
  private readonly clerks = new Map<MachineClerk<State, Command, Result>, ReadonlyMap<number, SimClientEnd>>()
  private nextClerk = 0

  private constructor(world: SimWorld, options: MachineClusterOptions<State, Command, Result>) {
    super({
      world,
      namePrefix: `${options.machine.name}-`,
      size: options.servers,
      machine: options.machine,
      ...(options.maxRaftStateBytes === undefined ? {} : { maxRaftStateBytes: options.maxRaftStateBytes }),
      ...(options.node ? { node: options.node } : {}),
      ...(options.founders === undefined ? {} : { founders: options.founders }),
      attach: ({ replica, transport }) => {
        serveMachine(replica, transport, options.refuse ? { refuse: options.refuse } : {})
      },
    })
    this.simWorld = world
    this.machine = options.machine
    world.network.setReliable(!options.unreliable)
    const [minMs, maxMs] = options.latencyMs ?? [0, 0]
    world.network.setLatency(minMs, maxMs)
  }

  /** Starts every server, connected to each other. */
  static async create<State, Command, Result>(
    world: SimWorld,
    options: MachineClusterOptions<State, Command, Result>,
  ): Promise<MachineCluster<State, Command, Result>> {
    const cluster = new MachineCluster(world, options)
    await cluster.startAll()
    return cluster
  }

  /** A clerk with an end to every server, enabled for those in `to` (default: all). */
  makeClerk(to: readonly number[] = this.all()): MachineClerk<State, Command, Result> {
    const { transport, ends } = this.switchableClient(`${this.machine.name}-client${this.nextClerk++}`)
    const rng = this.simWorld.rng.fork()
    const clerk = new MachineClerk(this.machine, {
      transport,
      servers: this.serverNames(),
      random: () => rng.float(),
      clock: this.simWorld.clock,
    })
    this.clerks.set(clerk, ends)
    this.connectClerk(clerk, to)
    return clerk
  }

  /** Lets `clerk` reach exactly the servers in `to`. */
  connectClerk(clerk: MachineClerk<State, Command, Result>, to: readonly number[]): void {
    const ends = this.clerks.get(clerk)
    if (ends) this.enableClientEnds(ends, to)
  }
}
