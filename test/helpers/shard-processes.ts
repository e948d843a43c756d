// A sharded KV of real processes for the process tests: a controller group and replica groups on
// free loopback ports, with their data in a fresh temp directory.

import { LocalShardDeployment } from '../../src/cli/shard-deployment.js'
import { shardLayout, shardLayoutPorts } from '../../src/cli/shard-layout.js'
import type { ExitListener } from '../../src/cli/supervisor.js'
import { freePortBlock } from './kv-processes.js'
import { makeTempDir } from './log.js'

export interface ShardProcessDeployment {
  readonly deployment: LocalShardDeployment
  readonly dataDirectory: string
  /** Stops every process and removes the data directories (unless `keepData`). */
  stop(keepData: boolean): Promise<void>
}

export interface ShardProcessOptions {
  controllerServers: number
  gids: readonly number[]
  serversPerGroup: number
  groupArgs?: readonly string[]
  onExit?: ExitListener
}

export async function startShardDeployment(options: ShardProcessOptions): Promise<ShardProcessDeployment> {
  const data = makeTempDir('shard-processes')
  const raftPorts = shardLayoutPorts(options)
  const respPorts = raftPorts - options.controllerServers
  const base = await freePortBlock(raftPorts + respPorts)
  const layout = shardLayout({ ...options, dataDirectory: data.path, host: '127.0.0.1', raftBasePort: base, respBasePort: base + raftPorts })
  let deployment: LocalShardDeployment
  try {
    deployment = await LocalShardDeployment.start(layout, options.onExit)
  } catch (error) {
    data.remove()
    throw error
  }
  return {
    deployment,
    dataDirectory: data.path,
    async stop(keepData) {
      await deployment.stop()
      if (!keepData) data.remove()
    },
  }
}
