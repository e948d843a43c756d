// Commands about the server, answered without the data: COMMAND (what redis-cli asks on connect),
// CONFIG GET (what redis-benchmark asks on start) and INFO (whose data sections come from the backend).

import { type CommandContext, type CommandSpec, NO_KEYS, subcommands } from './commands.js'
import { REDIS_COMPATIBLE_VERSION } from './connection-commands.js'
import { RespError } from './errors.js'
import { formatInfo } from './info.js'
import { NULL_BULK_REPLY, type RespReply, arrayReply, bulkReply, integerReply, mapReply, simpleReply, verbatimReply } from './reply.js'

/** COMMAND's ten-field description of a command, as Redis 7 sends it in RESP2. */
function commandInfo(spec: CommandSpec): RespReply {
  const [first, last, step] = spec.keys
  return arrayReply([
    bulkReply(spec.name),
    integerReply(spec.arity),
    arrayReply(spec.flags.map((flag) => simpleReply(flag))),
    integerReply(first),
    integerReply(last),
    integerReply(step),
    arrayReply([]), // ACL categories
    arrayReply([]), // tips
    arrayReply([]), // key specs
    arrayReply([]), // subcommands
  ])
}

const command: CommandSpec = {
  name: 'command',
  arity: -1,
  flags: ['loading', 'stale'],
  keys: NO_KEYS,
  run: (args, context) => {
    if (args.length === 1) return arrayReply(context.commands.specs.map(commandInfo))
    return commandSubcommands(args, context)
  },
}

const commandSubcommands = subcommands('command', [
  { name: 'count', arity: 2, run: (_args, { commands }) => integerReply(commands.specs.length) },
  { name: 'list', arity: 2, run: (_args, { commands }) => arrayReply(commands.specs.map((spec) => bulkReply(spec.name))) },
  {
    name: 'info',
    arity: -2,
    run: (args, { commands }) =>
      arrayReply(
        args.slice(2).map((name) => {
          const spec = commands.lookup(name.toString('utf8'))
          return spec ? commandInfo(spec) : NULL_BULK_REPLY
        }),
      ),
  },
  // redis-cli 7 asks for docs to show argument hints; an empty map means "no hints", not an error.
  { name: 'docs', arity: -2, run: () => mapReply([]) },
])

/** CONFIG GET's answers: what clients probe (redis-benchmark asks for save and appendonly). */
function configValues({ server }: CommandContext): Record<string, string> {
  return {
    save: '',
    appendonly: 'no',
    databases: '1',
    timeout: String(Math.floor(server.limits.idleTimeoutMs / 1000)),
    port: String(server.tcpPort()),
    maxclients: String(server.limits.maxClients),
    'proto-max-bulk-len': String(server.limits.maxBulkBytes),
  }
}

/** A Redis glob pattern (`*`, `?`) as a whole-string, case-insensitive regular expression. */
function globPattern(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`, 'i')
}

const config: CommandSpec = {
  name: 'config',
  arity: -2,
  flags: ['admin', 'loading', 'stale'],
  keys: NO_KEYS,
  run: subcommands('config', [
    {
      name: 'get',
      arity: -3,
      run: (args, context) => {
        const patterns = args.slice(2).map((pattern) => globPattern(pattern.toString('utf8')))
        const matching = Object.entries(configValues(context)).filter(([name]) => patterns.some((pattern) => pattern.test(name)))
        return mapReply(matching.map(([name, value]) => [name, bulkReply(value)]))
      },
    },
    {
      name: 'resetstat',
      arity: 2,
      run: (_args, { backend }) => {
        backend.resetStats?.()
        return simpleReply('OK')
      },
    },
    {
      name: 'set',
      arity: -4,
      run: () => {
        throw new RespError('ERR', 'CONFIG SET is not supported: lograft is configured through its RespServer options')
      },
    },
  ]),
}

const info: CommandSpec = {
  name: 'info',
  arity: -1,
  flags: ['loading', 'stale'],
  keys: NO_KEYS,
  run: async (args, { backend, server }) => {
    const serverSection = {
      Server: {
        redis_version: REDIS_COMPATIBLE_VERSION,
        redis_mode: 'standalone',
        server_name: 'lograft',
        process_id: process.pid,
        tcp_port: server.tcpPort(),
        uptime_in_seconds: Math.floor((server.nowMs() - server.startedAtMs) / 1000),
        ...server.infoFields,
      },
      Clients: {
        connected_clients: server.connectedClients(),
        maxclients: server.limits.maxClients,
        input_held_bytes: server.inputHeldBytes(),
        max_total_input_bytes: server.limits.maxTotalInputBytes,
      },
    }
    const wanted = args.slice(1).map((name) => name.toString('utf8'))
    return verbatimReply(formatInfo([serverSection, await backend.info()], wanted))
  },
}

export const serverCommands: readonly CommandSpec[] = [command, config, info]
