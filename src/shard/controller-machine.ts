// The shard controller as a state machine: a list of numbered configurations, changed by Join,
// Leave and Move, read by Query. Folded over the controller group's Raft log like any reducer.

import { jsonCodec } from '../statemachine/codecs.js'
import type { StateMachine } from '../statemachine/types.js'
import { NO_GROUP, type ShardConfig, groupIds, initialConfig, rebalance } from './config.js'

/** A command of the controller machine; see the methods of {@link ControllerClerk}. */
export type ControllerCommand =
  | { kind: 'join'; servers: Record<number, string[]> }
  | { kind: 'leave'; gids: number[] }
  | { kind: 'move'; shard: number; gid: number }
  /** num -1 (or past the latest) asks for the latest configuration. */
  | { kind: 'query'; num: number }

/** What a controller command returned. */
export interface ControllerResult {
  /** The configuration asked for (query) or created (join, leave, move). */
  config: ShardConfig
  /** Why a command changed nothing, e.g. a move of a shard that does not exist. */
  error: string
}

/** The controller machine's state: every configuration so far. */
export interface ControllerState {
  /** Indexed by configuration number, from configuration 0. */
  configs: ShardConfig[]
}

function latest(state: ControllerState): ShardConfig {
  return state.configs[state.configs.length - 1] as ShardConfig
}

function next(state: ControllerState, shards: number[], groups: Record<number, readonly string[]>): ControllerResult {
  const config: ShardConfig = { num: latest(state).num + 1, shards, groups }
  state.configs.push(config)
  return { config, error: '' }
}

export function controllerMachine(shardCount: number): StateMachine<ControllerState, ControllerCommand, ControllerResult> {
  return {
    name: 'ShardController',
    initial: () => ({ configs: [initialConfig(shardCount)] }),
    isReadOnly: (command) => command.kind === 'query',
    commandCodec: jsonCodec<ControllerCommand>(),
    resultCodec: jsonCodec<ControllerResult>(),
    stateCodec: jsonCodec<ControllerState>(),
    apply(state, command) {
      const current = latest(state)
      switch (command.kind) {
        case 'query': {
          const config = command.num < 0 || command.num >= state.configs.length ? current : (state.configs[command.num] as ShardConfig)
          return { state, result: { config, error: '' } }
        }
        case 'join': {
          const groups: Record<number, readonly string[]> = { ...current.groups }
          for (const [gid, servers] of Object.entries(command.servers)) groups[Number(gid)] = [...servers]
          const result = next(state, rebalance(current.shards, Object.keys(groups).map(Number)), groups)
          return { state, result }
        }
        case 'leave': {
          const groups: Record<number, readonly string[]> = { ...current.groups }
          for (const gid of command.gids) delete groups[gid]
          const shards = current.shards.map((gid) => (gid in groups ? gid : NO_GROUP))
          return { state, result: next(state, rebalance(shards, Object.keys(groups).map(Number)), groups) }
        }
        case 'move': {
          if (!Number.isInteger(command.shard) || command.shard < 0 || command.shard >= current.shards.length) {
            return { state, result: { config: current, error: `no shard ${command.shard}` } }
          }
          if (!groupIds(current).includes(command.gid)) return { state, result: { config: current, error: `no group ${command.gid}` } }
          const shards = [...current.shards]
          shards[command.shard] = command.gid
          return { state, result: next(state, shards, { ...current.groups }) }
        }
      }
    },
  }
}
