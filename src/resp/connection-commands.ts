// Commands about the connection itself, answered by the server without the backend: PING, ECHO,
// QUIT, SELECT, CLIENT and HELLO (what clients send while connecting). AUTH is in auth.ts.

import { authenticate } from './auth.js'
import { type ClientState, type CommandContext, type CommandSpec, NO_KEYS, arg, argInteger, argText, subcommands } from './commands.js'
import { RespError } from './errors.js'
import { OK_REPLY, type RespReply, arrayReply, bulkReply, integerReply, mapReply, simpleReply, verbatimReply } from './reply.js'
import type { RespProtocol } from './writer.js'

/**
 * The Redis version lograft answers as, in HELLO and INFO. Clients gate features on it; lograft
 * speaks the RESP2 subset of Redis 7.0 that its commands need.
 */
export const REDIS_COMPATIBLE_VERSION = '7.0.0'

const ping: CommandSpec = {
  name: 'ping',
  arity: -1,
  flags: ['fast'],
  keys: NO_KEYS,
  run: (args) => {
    if (args.length > 2) throw new RespError('ERR', "wrong number of arguments for 'ping' command")
    return args.length === 2 ? bulkReply(arg(args, 1)) : simpleReply('PONG')
  },
}

const echo: CommandSpec = { name: 'echo', arity: 2, flags: ['fast'], keys: NO_KEYS, run: (args) => bulkReply(arg(args, 1)) }

const quit: CommandSpec = { name: 'quit', arity: -1, flags: ['fast', 'no-auth'], keys: NO_KEYS, closesConnection: true, run: () => OK_REPLY }

/** lograft has one keyspace; SELECT 0 is accepted so that clients configured with db 0 connect. */
const select: CommandSpec = {
  name: 'select',
  arity: 2,
  flags: ['fast', 'loading', 'stale'],
  keys: NO_KEYS,
  run: (args) => {
    if (argInteger(args, 1) !== 0) throw new RespError('ERR', 'DB index is out of range')
    return OK_REPLY
  },
}

/** Redis allows client names of printable ASCII without spaces. */
const CLIENT_NAME = /^[!-~]*$/

function setName(client: ClientState, name: string): void {
  if (!CLIENT_NAME.test(name)) throw new RespError('ERR', 'Client names cannot contain spaces, newlines or special characters.')
  client.name = name === '' ? null : name
}

function clientInfoLine(client: ClientState): string {
  const fields = {
    id: client.id,
    addr: client.remoteAddress,
    laddr: client.localAddress,
    name: client.name ?? '',
    db: 0,
    'lib-name': client.libName ?? '',
    'lib-ver': client.libVersion ?? '',
  }
  return `${Object.entries(fields)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}\n`
}

const client: CommandSpec = {
  name: 'client',
  arity: -2,
  flags: ['connection'],
  keys: NO_KEYS,
  run: subcommands('client', [
    { name: 'id', arity: 2, run: (_args, { client }) => integerReply(client.id) },
    { name: 'getname', arity: 2, run: (_args, { client }) => bulkReply(client.name) },
    { name: 'info', arity: 2, run: (_args, { client }) => verbatimReply(clientInfoLine(client)) },
    {
      name: 'setname',
      arity: 3,
      run: (args, { client }) => {
        setName(client, argText(args, 2))
        return OK_REPLY
      },
    },
    {
      name: 'setinfo',
      arity: 4,
      run: (args, { client }) => {
        const attribute = argText(args, 2).toLowerCase()
        const value = argText(args, 3)
        if (attribute === 'lib-name') client.libName = value
        else if (attribute === 'lib-ver') client.libVersion = value
        else throw new RespError('ERR', `Unrecognized option '${argText(args, 2)}'`)
        return OK_REPLY
      },
    },
  ]),
}

/**
 * HELLO [protover [AUTH user pass] [SETNAME name]]: protover 3 switches the connection to RESP3
 * (maps, sets, nulls, doubles, booleans, verbatim strings), 2 back to RESP2; anything else gets
 * -NOPROTO and changes nothing. As in Redis, AUTH is applied first, and a client still
 * unauthenticated after it is refused (the protocol stays as it was).
 */
const hello: CommandSpec = {
  name: 'hello',
  arity: -1,
  flags: ['fast', 'no-auth', 'loading', 'stale'],
  keys: NO_KEYS,
  run: (args, context) => {
    let protocol: RespProtocol = context.client.protocol
    if (args.length >= 2) {
      const version = argInteger(args, 1)
      if (version !== 2 && version !== 3) throw new RespError('NOPROTO', 'unsupported protocol version')
      protocol = version
    }
    let credentials: { username: string; password: Buffer } | null = null
    let name: string | null = null
    for (let at = 2; at < args.length; at++) {
      const option = argText(args, at).toLowerCase()
      if (option === 'auth' && at + 2 < args.length) credentials = { username: argText(args, ++at), password: arg(args, ++at) }
      else if (option === 'setname' && at + 1 < args.length) name = argText(args, ++at)
      else throw new RespError('ERR', `Syntax error in HELLO option '${argText(args, at)}'`)
    }
    if (credentials) authenticate(context, credentials.username, credentials.password)
    if (!context.client.authenticated) {
      throw new RespError(
        'NOAUTH',
        'HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
      )
    }
    if (name !== null) setName(context.client, name)
    context.client.protocol = protocol
    return helloReply(context)
  },
}

/** HELLO's map (RESP2 receives it flattened into an array). */
function helloReply({ client }: CommandContext): RespReply {
  return mapReply([
    ['server', bulkReply('lograft')],
    ['version', bulkReply(REDIS_COMPATIBLE_VERSION)],
    ['proto', integerReply(client.protocol)],
    ['id', integerReply(client.id)],
    ['mode', bulkReply('standalone')],
    ['role', bulkReply('master')],
    ['modules', arrayReply([])],
  ])
}

export const connectionCommands: readonly CommandSpec[] = [ping, echo, quit, select, client, hello]
