#!/usr/bin/env node
// The lograft command line: a thin shell over the library.

import { CLUSTER_USAGE, clusterCommand } from './cluster-command.js'
import { demoFoundation } from './demo-foundation.js'
import { demoKv } from './demo-kv.js'
import { LOG_USAGE, inspectCommand, replayCommand } from './log-commands.js'
import { MR_USAGE, mrCommand } from './mr-command.js'
import { NODE_USAGE, nodeCommand } from './node-command.js'
import { SHARD_USAGE, shardCommand } from './shard-command.js'
import { UsageError, parseFlags } from './usage.js'

const USAGE = `usage: lograft <command> [options]

commands:
  ${NODE_USAGE}
                                     run one KV replica (Raft over TCP, LevelDB, RESP endpoint)
  ${CLUSTER_USAGE}
                                     run a local cluster of node processes until Ctrl-C
  ${LOG_USAGE.split('\n').join('\n  ')}
                                     look inside a stopped node's data directory
  ${MR_USAGE.split('\n').join('\n  ')}
                                     MapReduce: a local job, a coordinator or worker, the sequential run
  ${SHARD_USAGE.split('\n').join('\n  ')}
                                     sharded KV: controller and group servers, admin, a local demo
  lograft demo [--data DIR] [--exit] 3-node cluster, workload, leader killed, history checked
  lograft demo foundation [--data DIR]
                                     tour of the durable log, the TCP transport and the simulator
  lograft help
`

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case 'node':
      return nodeCommand(rest)
    case 'cluster':
      return clusterCommand(rest)
    case 'log': {
      const [what, ...flags] = rest
      if (what === 'inspect') return inspectCommand(flags)
      if (what === 'replay') return replayCommand(flags)
      throw new UsageError(`unknown log command "${what ?? ''}"\n${LOG_USAGE}`)
    }
    case 'mr':
      return mrCommand(rest)
    case 'shard':
      return shardCommand(rest)
    case 'demo': {
      if (rest[0] === 'foundation') {
        const { values } = parseFlags({ args: rest.slice(1), strict: true, options: { data: { type: 'string', default: './data' } } })
        return demoFoundation(values.data)
      }
      const { values } = parseFlags({
        args: rest,
        strict: true,
        options: { data: { type: 'string', default: './data' }, exit: { type: 'boolean', default: false } },
      })
      return demoKv(values.data, values.exit)
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

// Output piped into a program that stops reading (`lograft log inspect DIR | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`lograft: ${error.message}\n\n${USAGE}`)
      process.exit(2)
    }
    process.stderr.write(`lograft: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
