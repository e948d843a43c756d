// A client's pipelined commands, run together. Data commands that wait one behind another on a
// connection go to the backend as one batch (for lograft, one log entry, so one round of
// replication and one fsync for the lot, as Redis's pipeline costs one fsync per event-loop turn;
// a batch of reads alone is one linearizable read); each still gets its own reply, in order. A
// batch is never larger than the value limit allows one write to be, and stops at the first
// command that is not a data command (MULTI, an unknown command, one of the wrong arity).

import { type CommandContext, type CommandTable, arityAllows, argText } from './commands.js'
import { InvariantError } from '../base/assert.js'
import { RespClientGoneError, RespError } from './errors.js'
import { type DataCommandSpec, commandsOf, isDataCommand, planOrError, repliesInOrder } from './kv-plan.js'
import { type RespReply, errorReply } from './reply.js'

/** The most commands one batch takes. */
export const MAX_BATCH_COMMANDS = 64

/** The data command `args` names if it can join a batch: of the right arity, outside a transaction. */
export function batchable(args: readonly Buffer[], commands: CommandTable, context: Pick<CommandContext, 'client' | 'backend'>): DataCommandSpec | null {
  const { client, backend } = context
  if (!backend.executeBatch || client.transaction || !client.authenticated) return null
  const spec = commands.lookup(argText(args, 0))
  if (!spec || !isDataCommand(spec) || !arityAllows(spec.arity, args.length)) return null
  return spec
}

/**
 * Runs the batch and returns each command's reply, in order: a command whose arguments are refused
 * gets its error and is not sent; if the batch as a whole fails (no quorum), every command sent gets
 * that error, as each would have alone.
 */
export async function runBatch(batch: ReadonlyArray<{ spec: DataCommandSpec; args: readonly Buffer[] }>, context: CommandContext): Promise<RespReply[]> {
  const planned = batch.map(({ spec, args }) => planOrError(spec, args, context))
  const commands = commandsOf(planned)
  const executeBatch = context.backend.executeBatch?.bind(context.backend)
  if (commands.length === 0 || !executeBatch) return repliesInOrder(planned, [], context)
  try {
    return repliesInOrder(planned, await executeBatch(commands), context)
  } catch (error) {
    if (error instanceof RespClientGoneError || error instanceof InvariantError) throw error
    const failure =
      error instanceof RespError ? errorReply(error.respPrefix, error.message) : errorReply('ERR', error instanceof Error ? error.message : String(error))
    return planned.map((item) => (item instanceof RespError ? errorReply(item.respPrefix, item.message) : failure))
  }
}
