// What a command is (name, Redis-style arity, key positions, a run function from arguments to a
// reply) and how a command line is resolved to one, with Redis's wording for unknown commands and
// wrong arity so that clients and people see familiar errors.

import type { RespProtocol } from './writer.js'
import { assert } from '../base/assert.js'
import type { RequirePass } from './require-pass.js'
import type { KvBackend } from './backend.js'
import type { KvWatch } from '../kv/types.js'
import type { QueuedTransaction } from './transaction-commands.js'
import { RespError } from './errors.js'
import type { RespLimits } from './limits.js'
import type { RespReply } from './reply.js'

/** What the server knows about one connection; CLIENT and HELLO read and change it. */
export interface ClientState {
  readonly id: number
  /** "host:port" of the client. */
  readonly remoteAddress: string
  /** "host:port" the client connected to. */
  readonly localAddress: string
  name: string | null
  libName: string | null
  libVersion: string | null
  /** Whether commands other than AUTH, HELLO and QUIT may run: from the start when no password is required. */
  authenticated: boolean
  /** RESP2 until the client switches with HELLO 3 (or back with HELLO 2). */
  protocol: RespProtocol
  /** The transaction opened by MULTI, until EXEC or DISCARD; null outside one. */
  transaction: QueuedTransaction | null
  /** Keys WATCHed since the last EXEC, DISCARD or UNWATCH, with their fingerprints then. */
  watches: KvWatch[]
}

/** Facts about the server that INFO, HELLO and CONFIG report. */
export interface ServerFacts {
  tcpPort(): number
  readonly startedAtMs: number
  readonly limits: RespLimits
  /** The password clients must give (AUTH, HELLO AUTH) before other commands, or null when none is. */
  readonly requirePass: RequirePass | null
  /** Extra fields for INFO's Server section (e.g. the node's id). */
  readonly infoFields: Readonly<Record<string, string | number>>
  connectedClients(): number
  /** Bytes of client input held over all connections (bounded by limits.maxTotalInputBytes). */
  inputHeldBytes(): number
  nowMs(): number
}

export interface CommandContext {
  readonly backend: KvBackend
  readonly client: ClientState
  readonly server: ServerFacts
  readonly commands: CommandTable
  /**
   * Aborted once the client's connection has closed (its reason a RespClientGoneError): a command
   * that makes many backend calls stops between them with `signal.throwIfAborted()`.
   */
  readonly signal: AbortSignal
}

export type CommandFlag = 'write' | 'readonly' | 'fast' | 'connection' | 'admin' | 'no-auth' | 'loading' | 'stale'

export interface CommandSpec {
  /** Lowercase, as Redis reports names. */
  readonly name: string
  /** Redis's convention, counting the name: N means exactly N words, -N means N or more. */
  readonly arity: number
  readonly flags: readonly CommandFlag[]
  /** Which arguments are keys, for COMMAND: first, last (-1: the last argument), step; zeros for none. */
  readonly keys: readonly [first: number, last: number, step: number]
  /** Close the connection once this command's reply is written (QUIT). */
  readonly closesConnection?: boolean
  /** `args[0]` is the command name as the client sent it. Throw RespError to reply with an error. */
  run(args: readonly Buffer[], context: CommandContext): RespReply | Promise<RespReply>
}

/** The key positions of a command that takes no keys. */
export const NO_KEYS: CommandSpec['keys'] = [0, 0, 0]

/** A subcommand of a container command (CLIENT SETNAME); arity counts both words. */
export interface SubcommandSpec {
  readonly name: string
  readonly arity: number
  run(args: readonly Buffer[], context: CommandContext): RespReply | Promise<RespReply>
}

/** Redis quotes at most this many characters of a client's words in an error message. */
const QUOTED_BYTES = 128

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>()

  constructor(readonly specs: readonly CommandSpec[]) {
    for (const spec of specs) {
      assert(spec.name === spec.name.toLowerCase(), () => `command name ${spec.name} is not lowercase`)
      assert(!this.byName.has(spec.name), () => `command ${spec.name} is defined twice`)
      this.byName.set(spec.name, spec)
    }
  }

  lookup(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase())
  }

  /**
   * The command `args` names, after checking its arity; throws RespError as Redis would reply.
   * Before the client has authenticated, any command but those flagged no-auth (AUTH, HELLO, QUIT)
   * is refused with NOAUTH, an unknown one too, so that nothing about the server is answered.
   */
  resolve(args: readonly Buffer[], authenticated: boolean): CommandSpec {
    const name = argText(args, 0)
    const spec = this.lookup(name)
    if (!authenticated && !spec?.flags.includes('no-auth')) throw new RespError('NOAUTH', 'Authentication required.')
    if (!spec) throw new RespError('ERR', `unknown command '${quote(name)}', with args beginning with: ${quoteArgs(args.slice(1))}`)
    checkArity(spec.name, spec.arity, args.length)
    return spec
  }
}

/** The run function of a container command: dispatches on args[1] to one of `subcommands`. */
export function subcommands(parent: string, table: readonly SubcommandSpec[]): CommandSpec['run'] {
  const byName = new Map(table.map((sub) => [sub.name, sub]))
  return (args, context) => {
    const name = argText(args, 1).toLowerCase()
    const sub = byName.get(name)
    if (!sub) throw new RespError('ERR', `unknown subcommand '${quote(argText(args, 1))}'. Try ${parent.toUpperCase()} HELP.`)
    checkArity(`${parent}|${name}`, sub.arity, args.length)
    return sub.run(args, context)
  }
}

/** Whether `count` words (the name included) fit Redis's arity convention. */
export function arityAllows(arity: number, count: number): boolean {
  return arity >= 0 ? count === arity : count >= -arity
}

function checkArity(name: string, arity: number, count: number): void {
  if (!arityAllows(arity, count)) {
    throw new RespError('ERR', `wrong number of arguments for '${name}' command`)
  }
}

/** Argument `index` as text (UTF-8, for names, options and numbers); '' when absent. */
export function argText(args: readonly Buffer[], index: number): string {
  return args[index]?.toString('utf8') ?? ''
}

/** Argument `index`, which the arity check guarantees is present. */
export function arg(args: readonly Buffer[], index: number): Buffer {
  const value = args[index]
  assert(value !== undefined, () => `argument ${index} missing after the arity check`)
  return value
}

/** Argument `index` as an integer, or a RespError in Redis's words. */
export function argInteger(args: readonly Buffer[], index: number): number {
  const text = argText(args, index)
  const value = Number(text)
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw new RespError('ERR', 'value is not an integer or out of range')
  return value
}

function quote(text: string): string {
  return text.slice(0, QUOTED_BYTES)
}

/** Redis's "'a' 'b' " list of a rejected command's first arguments, bounded in length. */
function quoteArgs(args: readonly Buffer[]): string {
  let quoted = ''
  for (const value of args) {
    if (quoted.length >= QUOTED_BYTES) break
    quoted += `'${value.toString('utf8').slice(0, QUOTED_BYTES - quoted.length)}' `
  }
  return quoted
}
