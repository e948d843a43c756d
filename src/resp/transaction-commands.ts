// MULTI, EXEC, DISCARD, WATCH and UNWATCH. Between MULTI and EXEC a connection's data commands are
// checked and queued (QUEUED), not run; EXEC sends them as one KV transaction entry, applied
// all-or-nothing in the log's order, and replies with each command's reply. WATCH takes each key's
// fingerprint (type, value, time to live) by a linearizable read; EXEC carries them, and the machine
// runs nothing (EXEC replies null) if any differs where the transaction applies. Unlike Redis, a key
// changed and changed back between WATCH and EXEC counts as unchanged: the check compares what the
// key holds, not whether it was written.

import type { KvWatch } from '../kv/types.js'
import { commandBytes } from '../kv/kv-ops.js'
import { type CommandContext, type CommandSpec, NO_KEYS } from './commands.js'
import { RespError, respErrorOf } from './errors.js'
import { type Planned, commandsOf, isDataCommand, keysFrom, planOrError, repliesInOrder } from './kv-plan.js'
import { OK_REPLY, type RespReply, arrayReply, simpleReply } from './reply.js'

/**
 * A connection's open transaction: what was queued since MULTI (a plan, or the error a command's
 * options drew, which EXEC replies in its place, as Redis does), and whether a command was refused
 * outright (unknown, wrong arity), after which EXEC discards them all.
 */
export interface QueuedTransaction {
  readonly queued: Planned[]
  /** Bytes of keys and values queued so far: bounded, as the whole transaction becomes one log entry. */
  queuedBytes: number
  refused: boolean
}

/** Commands that run at once even inside MULTI. */
const TRANSACTION_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit'])

/** Queued commands at most: past this a transaction is refused, so one client cannot hold unbounded plans. */
export const MAX_QUEUED_COMMANDS = 10_000

/**
 * Runs `spec`, or queues it when the client has a transaction open: inside MULTI a data command is
 * planned (its argument errors refuse the transaction) and answered QUEUED; other commands are
 * refused, as their effects could not be part of the transaction entry.
 */
export async function runOrQueue(spec: CommandSpec, args: readonly Buffer[], context: CommandContext): Promise<RespReply> {
  const transaction = context.client.transaction
  if (!transaction || TRANSACTION_CONTROL.has(spec.name)) return spec.run(args, context)
  if (!isDataCommand(spec) || transaction.queued.length >= MAX_QUEUED_COMMANDS) {
    transaction.refused = true
    if (!isDataCommand(spec)) throw new RespError('ERR', `${spec.name.toUpperCase()} cannot be part of a transaction here: only data commands can`)
    throw new RespError('ERR', `a transaction holds at most ${MAX_QUEUED_COMMANDS} commands`)
  }
  const planned = planOrError(spec, args, context)
  if (!(planned instanceof RespError)) {
    transaction.queuedBytes += commandBytes(planned.command)
    const maxBytes = context.server.limits.maxValueBytes
    if (transaction.queuedBytes > maxBytes) {
      transaction.refused = true
      throw new RespError('ERR', `a transaction carries at most ${maxBytes} bytes of keys and values (the largest value allowed)`)
    }
  }
  transaction.queued.push(planned)
  return simpleReply('QUEUED')
}

const multi: CommandSpec = {
  name: 'multi',
  arity: 1,
  flags: ['fast'],
  keys: NO_KEYS,
  run: (_args, { client }) => {
    if (client.transaction) throw new RespError('ERR', 'MULTI calls can not be nested')
    client.transaction = { queued: [], queuedBytes: 0, refused: false }
    return OK_REPLY
  },
}

const exec: CommandSpec = {
  name: 'exec',
  arity: 1,
  flags: [],
  keys: NO_KEYS,
  run: async (_args, context) => {
    const { client, backend } = context
    const transaction = client.transaction
    const watches = client.watches
    client.transaction = null
    client.watches = []
    if (!transaction) throw new RespError('ERR', 'EXEC without MULTI')
    if (transaction.refused) throw new RespError('EXECABORT', 'Transaction discarded because of previous errors.')
    const result = await backend.execute({ op: 'multi', key: '', value: '', commands: commandsOf(transaction.queued), watches })
    if (result.error !== undefined) throw respErrorOf(result.error)
    if (result.results === undefined) return arrayReply(null)
    return arrayReply(repliesInOrder(transaction.queued, result.results, context))
  },
}

const discard: CommandSpec = {
  name: 'discard',
  arity: 1,
  flags: ['fast'],
  keys: NO_KEYS,
  run: (_args, { client }) => {
    if (!client.transaction) throw new RespError('ERR', 'DISCARD without MULTI')
    client.transaction = null
    client.watches = []
    return OK_REPLY
  },
}

/** WATCH key...: each key's fingerprint now, by a linearizable read; EXEC runs only if none changed. */
const watch: CommandSpec = {
  name: 'watch',
  arity: -2,
  flags: ['fast'],
  keys: [1, -1, 1],
  run: async (args, context: CommandContext) => {
    const { client, backend, signal } = context
    if (client.transaction) throw new RespError('ERR', 'WATCH inside MULTI is not allowed')
    const watched: KvWatch[] = []
    for (const key of keysFrom(args, 1, context)) {
      signal.throwIfAborted()
      const result = await backend.execute({ op: 'fingerprint', key, value: '' })
      watched.push({ key, fingerprint: result.value })
    }
    client.watches.push(...watched)
    return OK_REPLY
  },
}

const unwatch: CommandSpec = {
  name: 'unwatch',
  arity: 1,
  flags: ['fast'],
  keys: NO_KEYS,
  run: (_args, { client }) => {
    client.watches = []
    return OK_REPLY
  },
}

export const transactionCommands: readonly CommandSpec[] = [multi, exec, discard, watch, unwatch]
