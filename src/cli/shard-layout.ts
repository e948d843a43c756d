// Where the processes of a local sharded-KV deployment live: a controller group and replica groups
// on one host, each process with its ports and data directory, as ProcessSpecs a ProcessSupervisor
// can start. `lograft shard demo`, the process tests and the shard benchmark use it.

import { join } from 'node:path'
import { newClusterId } from '../log/log-store.js'
import { formatPeers } from '../node/peers.js'
import type { ProcessSpec } from './supervisor.js'

/**
 * Node options of a group server: a young generation of 4 MiB semispaces instead of V8's 16. A
 * moving shard's keys and values all outlive the scavenges that find them in the young generation,
 * so each scavenge copies up to a whole semispace of them: 17–27 ms with 16 MiB, the longest work on
 * the new owner's event loop. With 4 MiB a scavenge copies at most a quarter of that. In bench:shard
 * (five runs each) the median move went from 3.6 to 4.8 MB/s, and the other shards kept 41% of
 * their throughput instead of 33%. 2 MiB gained nothing: the scavenges came too often. An operator
 * who runs `lograft shard group` directly gets the same with NODE_OPTIONS=--max-semi-space-size=4.
 */
export const GROUP_SERVER_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=4']

export interface ShardProcess extends ProcessSpec {
  /** 0 for a controller server. */
  readonly gid: number
  readonly raftAddress: string
  /** A group server's RESP endpoint; null for a controller server. */
  readonly respAddress: string | null
}

export interface ShardGroupLayout {
  readonly gid: number
  readonly servers: readonly ShardProcess[]
  /** The servers' addresses, as a join names them. */
  readonly addresses: readonly string[]
}

export interface ShardDeploymentLayout {
  /** The deployment's --cluster-id (random), given to every process. */
  readonly clusterId: string
  readonly controllers: readonly ShardProcess[]
  readonly controllerAddresses: readonly string[]
  readonly groups: readonly ShardGroupLayout[]
}

export interface ShardLayoutOptions {
  dataDirectory: string
  host: string
  /** Raft ports are raftBasePort+1, +2, ...: the controller's first, then each group's in turn. */
  raftBasePort: number
  /** RESP ports of the group servers are respBasePort+1, +2, ..., in the same order. */
  respBasePort: number
  controllerServers: number
  gids: readonly number[]
  serversPerGroup: number
  /** Extra arguments for every `lograft shard group`. */
  groupArgs?: readonly string[]
  /** Default: a fresh random id. */
  clusterId?: string
}

/** How many consecutive ports after each base the layout uses (raft: this many; RESP: this minus the controller's). */
export function shardLayoutPorts(options: Pick<ShardLayoutOptions, 'controllerServers' | 'gids' | 'serversPerGroup'>): number {
  return options.controllerServers + options.gids.length * options.serversPerGroup
}

export function shardLayout(options: ShardLayoutOptions): ShardDeploymentLayout {
  const clusterId = options.clusterId ?? newClusterId()
  let nextRaftPort = options.raftBasePort + 1
  let nextRespPort = options.respBasePort + 1
  const ids = (count: number): string[] => Array.from({ length: count }, (_, i) => String(i + 1))
  const controllerIds = ids(options.controllerServers)
  const controllerAddresses = controllerIds.map(() => `${options.host}:${nextRaftPort++}`)
  const controllerPeers = formatPeers(controllerIds.map((id, i) => ({ id, address: controllerAddresses[i] as string })))
  const controllers = controllerIds.map((id, i): ShardProcess => {
    const dataDirectory = join(options.dataDirectory, 'controller', `node-${id}`)
    return {
      id: `controller-${id}`,
      gid: 0,
      raftAddress: controllerAddresses[i] as string,
      respAddress: null,
      dataDirectory,
      args: ['shard', 'controller', '--id', id, '--peers', controllerPeers, '--cluster-id', clusterId, '--data', dataDirectory],
      readyText: `lograft shard controller ${id} ready`,
    }
  })
  const groups = options.gids.map((gid): ShardGroupLayout => {
    const serverIds = ids(options.serversPerGroup)
    const addresses = serverIds.map(() => `${options.host}:${nextRaftPort++}`)
    const peers = formatPeers(serverIds.map((id, i) => ({ id, address: addresses[i] as string })))
    const servers = serverIds.map((id, i): ShardProcess => {
      const dataDirectory = join(options.dataDirectory, `group-${gid}`, `node-${id}`)
      const respAddress = `${options.host}:${nextRespPort++}`
      return {
        id: `g${gid}-${id}`,
        gid,
        raftAddress: addresses[i] as string,
        respAddress,
        dataDirectory,
        args: [
          'shard',
          'group',
          '--gid',
          String(gid),
          '--id',
          id,
          '--peers',
          peers,
          '--cluster-id',
          clusterId,
          '--data',
          dataDirectory,
          '--controller',
          controllerAddresses.join(','),
          '--resp',
          respAddress,
          ...(options.groupArgs ?? []),
        ],
        nodeOptions: GROUP_SERVER_NODE_OPTIONS,
        readyText: `lograft shard group ${gid}/${id} ready`,
      }
    })
    return { gid, servers, addresses }
  })
  return { clusterId, controllers, controllerAddresses, groups }
}

/** The RESP port of a group server. */
export function respPortOf(server: ShardProcess): number {
  if (!server.respAddress) throw new Error(`${server.id} has no RESP endpoint`)
  return Number(server.respAddress.slice(server.respAddress.lastIndexOf(':') + 1))
}
