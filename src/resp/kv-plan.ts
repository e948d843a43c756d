// A Redis data command as the endpoint runs it: one KV command for the backend and how to turn its
// result into the reply. Run alone, the plan's command goes to the backend at once; inside MULTI it
// is queued, and EXEC sends the queued commands as one transaction entry and replies with each
// plan's reply to its own result.

import type { KvCommand, KvResult } from '../kv/types.js'
import { arg, argText, type CommandContext, type CommandFlag, type CommandSpec } from './commands.js'
import { RespError, respErrorOf } from './errors.js'
import type { RespLimits } from './limits.js'
import { type RespReply, errorReply } from './reply.js'

export interface KvPlan {
  readonly command: KvCommand
  /** The reply to the command's result (one without an error). */
  reply(result: KvResult, context: CommandContext): RespReply
}

/** The reply to `result`: its error, or what the plan makes of it. */
export function replyTo(plan: KvPlan, result: KvResult, context: CommandContext): RespReply {
  if (result.error === undefined) return plan.reply(result, context)
  const error = respErrorOf(result.error)
  return errorReply(error.respPrefix, error.message)
}

/** A data command waiting to run with others (a transaction, a pipelined batch): its plan, or the error its arguments drew. */
export type Planned = KvPlan | RespError

/** The plan of `args`, or the RespError its arguments drew (replied in its place, as Redis does inside MULTI). */
export function planOrError(spec: DataCommandSpec, args: readonly Buffer[], context: CommandContext): Planned {
  try {
    return spec.plan(args, context)
  } catch (error) {
    if (error instanceof RespError) return error
    throw error
  }
}

/** The KV commands of the plans among `planned`, in order: what goes to the backend. */
export function commandsOf(planned: readonly Planned[]): KvCommand[] {
  return planned.flatMap((item) => (item instanceof RespError ? [] : [item.command]))
}

/** Each item's reply, in order: a plan's to the next of `results` (one per plan), an error as itself. */
export function repliesInOrder(planned: readonly Planned[], results: readonly KvResult[], context: CommandContext): RespReply[] {
  let next = 0
  return planned.map((item) => {
    if (item instanceof RespError) return errorReply(item.respPrefix, item.message)
    const result = results[next++]
    return result ? replyTo(item, result, context) : errorReply('ERR', 'the backend returned fewer results than commands')
  })
}

/** A data command: its spec runs the plan through the backend; MULTI queues the plan instead. */
export interface DataCommandSpec extends CommandSpec {
  /** The KV command for these arguments and how to reply; throws RespError for bad arguments. */
  plan(args: readonly Buffer[], context: CommandContext): KvPlan
}

export function dataCommand(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  keys: CommandSpec['keys'],
  plan: DataCommandSpec['plan'],
): DataCommandSpec {
  return {
    name,
    arity,
    flags,
    keys,
    plan,
    run: async (args, context) => {
      const planned = plan(args, context)
      const result = await context.backend.execute(planned.command)
      if (result.error !== undefined) throw respErrorOf(result.error)
      return planned.reply(result, context)
    },
  }
}

export function isDataCommand(spec: CommandSpec): spec is DataCommandSpec {
  return 'plan' in spec
}

/** Keys and values travel as binary strings, one character per byte. */
export function binary(value: Buffer): string {
  return value.toString('latin1')
}

export function checkKey(key: Buffer, limits: RespLimits): string {
  if (key.length > limits.maxKeyBytes) throw new RespError('ERR', `key too large (${key.length} bytes, max ${limits.maxKeyBytes})`)
  return binary(key)
}

export function checkValue(value: Buffer, limits: RespLimits): string {
  if (value.length > limits.maxValueBytes) throw new RespError('ERR', `value too large (${value.length} bytes, max ${limits.maxValueBytes})`)
  return binary(value)
}

/** The key at argument `index`, checked against the key limit. */
export function keyArg(args: readonly Buffer[], index: number, { server }: CommandContext): string {
  return checkKey(arg(args, index), server.limits)
}

/** The value at argument `index`, checked against the value limit. */
export function valueArg(args: readonly Buffer[], index: number, { server }: CommandContext): string {
  return checkValue(arg(args, index), server.limits)
}

/** Arguments from `from` on (every `step`th), each checked as a key. */
export function keysFrom(args: readonly Buffer[], from: number, context: CommandContext, step = 1): string[] {
  const keys: string[] = []
  for (let at = from; at < args.length; at += step) keys.push(keyArg(args, at, context))
  return keys
}

/** Argument `index` upper-cased, for options. */
export function optionAt(args: readonly Buffer[], index: number): string {
  return argText(args, index).toUpperCase()
}
