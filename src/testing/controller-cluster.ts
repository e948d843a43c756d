// A simulated shard-controller group for tests: the controller state machine on a replica group,
// and clerks that join, leave, move and query.

import type { SimWorld } from '../sim/world.js'
import { ControllerClerk } from '../shard/controller-clerk.js'
import { type ControllerCommand, type ControllerResult, type ControllerState, controllerMachine } from '../shard/controller-machine.js'
import { MachineClerk } from '../statemachine/machine-clerk.js'
import { serveMachine } from '../statemachine/machine-service.js'
import type { StateMachine } from '../statemachine/types.js'
import { ReplicaGroup } from './replica-group.js'

export { ControllerClerk }

export class ControllerCluster extends ReplicaGroup<ControllerState, ControllerCommand, ControllerResult> {
  private nextClient = 0
  private readonly controller: StateMachine<ControllerState, ControllerCommand, ControllerResult>

  constructor(
    private readonly simWorld: SimWorld,
    options: { servers: number; shardCount: number; namePrefix?: string },
  ) {
    const machine = controllerMachine(options.shardCount)
    super({
      world: simWorld,
      namePrefix: options.namePrefix ?? 'ctrl',
      size: options.servers,
      machine,
      attach: ({ replica, transport }) => {
        serveMachine(replica, transport)
      },
    })
    this.controller = machine
  }

  static async create(world: SimWorld, options: { servers: number; shardCount: number; namePrefix?: string }): Promise<ControllerCluster> {
    const cluster = new ControllerCluster(world, options)
    await cluster.startAll()
    return cluster
  }

  makeClient(): ControllerClerk {
    const rng = this.simWorld.rng.fork()
    return new ControllerClerk(
      new MachineClerk(this.controller, {
        transport: this.clientTransport(`${this.serverName(0)}-client${this.nextClient++}`),
        servers: this.serverNames(),
        random: () => rng.float(),
        clock: this.simWorld.clock,
      }),
    )
  }
}
