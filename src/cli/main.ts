#!/usr/bin/env node
// The lograft command line: a thin shell over the library.

import { UsageError, parseFlags } from './usage.js'
import { CALL_USAGE, CLUSTER_USAGE, LOG_USAGE, MEMBER_USAGE, MR_USAGE, NODE_USAGE, SHARD_USAGE, STATUS_USAGE, TLS_OPTIONS_USAGE } from './usage-text.js'

// Each command's code is loaded only when it runs, so a process (a MapReduce worker, a node)
// starts without loading every other command.

const USAGE = `usage: lograft <command> [options]

commands:
  ${NODE_USAGE}
                                     run one KV replica (Raft over TCP, LevelDB, RESP endpoint)
  ${CALL_USAGE}
                                     one command to a cluster serving your machine, result as JSON
  ${MEMBER_USAGE.split('\n').join('\n  ')}
                                     list and change a cluster's members (learners, voters, addresses)
  ${STATUS_USAGE.split('\n').join('\n  ')}
                                     the cluster as a table: roles, terms, indexes, lag, health
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

${TLS_OPTIONS_USAGE}
`

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case 'node':
      return (await import('./node-command.js')).nodeCommand(rest)
    case 'call':
      return (await import('./call-command.js')).callCommand(rest)
    case 'member':
      return (await import('./member-command.js')).memberCommand(rest)
    case 'status':
      return (await import('./status-command.js')).statusCommand(rest)
    case 'cluster':
      return (await import('./cluster-command.js')).clusterCommand(rest)
    case 'log': {
      const [what, ...flags] = rest
      if (what === 'inspect') return (await import('./log-commands.js')).inspectCommand(flags)
      if (what === 'replay') return (await import('./log-commands.js')).replayCommand(flags)
      throw new UsageError(`unknown log command "${what ?? ''}"\n${LOG_USAGE}`)
    }
    case 'mr':
      return (await import('./mr-command.js')).mrCommand(rest)
    case 'shard':
      return (await import('./shard-command.js')).shardCommand(rest)
    case 'demo': {
      if (rest[0] === 'foundation') {
        const { values } = parseFlags({ args: rest.slice(1), strict: true, options: { data: { type: 'string', default: './data' } } })
        return (await import('./demo-foundation.js')).demoFoundation(values.data)
      }
      const { values } = parseFlags({
        args: rest,
        strict: true,
        options: { data: { type: 'string', default: './data' }, exit: { type: 'boolean', default: false } },
      })
      return (await import('./demo-kv.js')).demoKv(values.data, values.exit)
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
