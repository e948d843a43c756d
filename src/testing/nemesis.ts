// A fault schedule for simulated clusters: every period (on virtual time) the nemesis heals the
// network, or partitions the servers at random, or crashes a server (restarting the one it crashed
// before), until stopped; stop() heals everything, so a test can then check what survived.

import { sleep } from '../base/clock.js'
import type { SimWorld } from '../sim/world.js'
import type { ReplicaGroup } from './replica-group.js'

/** Which faults a nemesis makes, and how often. */
export interface NemesisOptions {
  /** Split the servers into two random sides. Default true. */
  partitions?: boolean
  /** Crash one server at a time (it keeps only what reached its store) and restart it later. Default true. */
  crashes?: boolean
  /** Time between faults, randomized in [periodMs, 2 × periodMs). Default 1000 ms. */
  periodMs?: number
}

/** A running fault schedule, from startNemesis. */
export interface Nemesis {
  /** Faults done so far, as "partition [0,2] | [1]", "crash 1", "heal". */
  readonly history: readonly string[]
  /** Stops making faults, heals the network and restarts every crashed server. */
  stop(): Promise<void>
}

/**
 * Starts making faults on `group`, one every period of virtual time: each time it restarts the
 * server it crashed last, if any, then partitions the servers at random, crashes one, or heals the
 * network, drawing on the world's RNG, so the schedule replays with the seed. Call stop() before
 * checking what survived.
 */
export function startNemesis<State, Command, Result>(world: SimWorld, group: ReplicaGroup<State, Command, Result>, options: NemesisOptions = {}): Nemesis {
  const periodMs = options.periodMs ?? 1000
  const faults = [...(options.partitions === false ? [] : ['partition']), ...(options.crashes === false ? [] : ['crash']), 'heal'] as const
  const history: string[] = []
  let crashed: number | null = null
  let running = true
  const restart = async (): Promise<void> => {
    if (crashed === null) return
    await group.startServer(crashed)
    crashed = null
  }
  const loop = (async () => {
    while (running) {
      await sleep(world.clock, periodMs + world.rng.int(periodMs))
      if (!running) break
      const fault = faults[world.rng.int(faults.length)] as (typeof faults)[number]
      await restart()
      if (fault === 'partition') {
        const side = group.all().map(() => world.rng.int(2))
        const [left, right] = [group.all().filter((i) => side[i] === 0), group.all().filter((i) => side[i] === 1)]
        group.partition(left, right)
        history.push(`partition [${left.join(',')}] | [${right.join(',')}]`)
      } else if (fault === 'crash') {
        group.connectAll()
        crashed = world.rng.int(group.size)
        group.shutdownServer(crashed)
        history.push(`crash ${crashed}`)
      } else {
        group.connectAll()
        history.push('heal')
      }
    }
  })()
  return {
    history,
    stop: async () => {
      running = false
      await loop
      await restart()
      group.connectAll()
    },
  }
}
