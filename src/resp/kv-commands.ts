// Redis's data commands, each one KV command (kv-plan.ts): argument checks and Redis's error words
// here, the data in the KV machine (kv-ops.ts documents each op's cost). A key or value over its
// limit is refused before the backend sees it. Multi-key commands are one command, atomic as in
// Redis; their keys are bounded by the parser's array limit.

import { INT64_MIN, parseInt64 } from '../base/int64.js'
import { type KvCommand, type KvExpiry, type KvResult } from '../kv/types.js'
import { putAllowed } from '../kv/kv-ops.js'
import { type CommandContext, NO_KEYS, arg, argText } from './commands.js'
import { RespError } from './errors.js'
import { type DataCommandSpec, type KvPlan, binary, dataCommand, keyArg, keysFrom, optionAt, valueArg } from './kv-plan.js'
import { NULL_BULK_REPLY, OK_REPLY, type RespReply, arrayReply, bulkReply, integerReply, mapReply, simpleReply } from './reply.js'

const NOT_AN_INTEGER = 'value is not an integer or out of range'
/** The largest ms a time to live may name: Redis's bound (long long ms, with room to add now). */
const MAX_EXPIRY_MS = Math.floor(Number.MAX_SAFE_INTEGER / 2)

function plan(command: KvCommand, reply: (result: KvResult, context: CommandContext) => RespReply): KvPlan {
  return { command, reply }
}

function integerAt(args: readonly Buffer[], index: number): number {
  const value = parseInt64(argText(args, index))
  if (value === null || value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new RespError('ERR', NOT_AN_INTEGER)
  return Number(value)
}

/** A signed 64-bit integer argument, clamped to the safe integers. */
function clampedIntegerAt(args: readonly Buffer[], index: number): number {
  const value = parseInt64(argText(args, index))
  if (value === null) throw new RespError('ERR', NOT_AN_INTEGER)
  return Number(value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : value < BigInt(Number.MIN_SAFE_INTEGER) ? Number.MIN_SAFE_INTEGER : value)
}

/** The value bulk, or null for a missing key. */
const valueOrNull = (result: KvResult): RespReply => (result.found ? bulkReply(Buffer.from(result.value, 'latin1')) : NULL_BULK_REPLY)
const integerOf = (result: KvResult): RespReply => integerReply(result.integer ?? 0)
const ok = (): RespReply => OK_REPLY
const values = (result: KvResult): RespReply =>
  arrayReply((result.values ?? []).map((value) => bulkReply(value === null ? null : Buffer.from(value, 'latin1'))))

/** A time to live from an option's amount: seconds or ms, relative or absolute; Redis's error names the command. */
function expiryOf(option: string, amountText: string, command: string): KvExpiry {
  const amount = parseInt64(amountText)
  const invalid = new RespError('ERR', `invalid expire time in '${command}' command`)
  if (amount === null) throw new RespError('ERR', NOT_AN_INTEGER)
  const seconds = option === 'EX' || option === 'EXAT'
  if (amount <= 0n || (seconds ? amount * 1000n : amount) > BigInt(MAX_EXPIRY_MS)) throw invalid
  const ms = Number(amount) * (seconds ? 1000 : 1)
  return option === 'EX' || option === 'PX' ? { kind: 'in', ms } : { kind: 'at', ms }
}

const EXPIRY_OPTIONS = new Set(['EX', 'PX', 'EXAT', 'PXAT'])

/**
 * The expiry options from argument `from` on, as Redis reads them for SET (with NX, XX and GET) and
 * GETEX (with PERSIST): an option may repeat (the last amount wins); two that conflict are a syntax
 * error, found before any amount is read. Returns the expiry option and its amount.
 */
function expiryOptions(
  args: readonly Buffer[],
  from: number,
  other: (option: string) => boolean,
  keepOption: 'KEEPTTL' | 'PERSIST',
): { option?: string; amount: string } {
  let expiry: string | undefined
  let amount = ''
  for (let at = from; at < args.length; at++) {
    const option = optionAt(args, at)
    if (other(option)) continue
    if ((option === keepOption || EXPIRY_OPTIONS.has(option)) && (expiry === undefined || expiry === option)) {
      expiry = option
      if (option !== keepOption) {
        if (at + 1 >= args.length) throw new RespError('ERR', 'syntax error')
        amount = argText(args, ++at)
      }
    } else throw new RespError('ERR', 'syntax error')
  }
  return expiry === undefined ? { amount } : { option: expiry, amount }
}

/** SET's options: NX or XX, GET, and one of EX, PX, EXAT, PXAT or KEEPTTL. */
function setCommand(args: readonly Buffer[], context: CommandContext): KvCommand {
  const command: KvCommand = { op: 'put', key: keyArg(args, 1, context), value: valueArg(args, 2, context) }
  const { option, amount } = expiryOptions(
    args,
    3,
    (word) => {
      const condition = word === 'NX' ? 'nx' : word === 'XX' ? 'xx' : undefined
      if (condition && (command.condition === undefined || command.condition === condition)) command.condition = condition
      else if (word === 'GET') command.returnOld = true
      else return false
      return true
    },
    'KEEPTTL',
  )
  if (option === 'KEEPTTL') command.expiry = { kind: 'keep' }
  else if (option !== undefined) command.expiry = expiryOf(option, amount, 'set')
  return command
}

const get = dataCommand('get', 2, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'get', key: keyArg(args, 1, context), value: '' }, valueOrNull),
)

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]: one logged write; a condition is decided where it applies. */
const set = dataCommand('set', -3, ['write'], [1, 1, 1], (args, context) => {
  const command = setCommand(args, context)
  return plan(command, (result) => {
    if (command.returnOld) return valueOrNull(result)
    return putAllowed(command.condition, result.found) ? OK_REPLY : NULL_BULK_REPLY
  })
})

const setnx = dataCommand('setnx', 3, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'put', key: keyArg(args, 1, context), value: valueArg(args, 2, context), condition: 'nx' }, (result) => integerReply(result.found ? 0 : 1)),
)

/** SETEX key seconds value and PSETEX key ms value. */
function setWithExpiry(name: string, option: 'EX' | 'PX'): DataCommandSpec {
  return dataCommand(name, 4, ['write'], [1, 1, 1], (args, context) =>
    plan({ op: 'put', key: keyArg(args, 1, context), value: valueArg(args, 3, context), expiry: expiryOf(option, argText(args, 2), name) }, ok),
  )
}

const getset = dataCommand('getset', 3, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'put', key: keyArg(args, 1, context), value: valueArg(args, 2, context), returnOld: true }, valueOrNull),
)

const getdel = dataCommand('getdel', 2, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'getdel', key: keyArg(args, 1, context), value: '' }, valueOrNull),
)

/** GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]; a bad amount is an error only for a key that exists. */
const getex = dataCommand('getex', -2, ['write', 'fast'], [1, 1, 1], (args, context) => {
  const command: KvCommand = { op: 'getex', key: keyArg(args, 1, context), value: '' }
  const { option, amount } = expiryOptions(args, 2, () => false, 'PERSIST')
  if (option === 'PERSIST') command.expiry = { kind: 'persist' }
  else if (option !== undefined) {
    try {
      command.expiry = expiryOf(option, amount, 'getex')
    } catch (error) {
      if (!(error instanceof RespError)) throw error
      command.value = `${error.respPrefix} ${error.message}`
    }
  }
  return plan(command, valueOrNull)
})

const strlen = dataCommand('strlen', 2, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'get', key: keyArg(args, 1, context), value: '' }, (result) => integerReply(result.value.length)),
)

const append = dataCommand('append', 3, ['write'], [1, 1, 1], (args, context) =>
  plan({ op: 'append', key: keyArg(args, 1, context), value: valueArg(args, 2, context) }, (result) => integerReply(result.length)),
)

/** GETRANGE key start end: indices past 2^53 say the same as 2^53 (no value is that long). */
const getrange = dataCommand('getrange', 4, ['readonly'], [1, 1, 1], (args, context) =>
  plan({ op: 'getrange', key: keyArg(args, 1, context), value: '', start: clampedIntegerAt(args, 2), end: clampedIntegerAt(args, 3) }, (result) =>
    bulkReply(Buffer.from(result.value, 'latin1')),
  ),
)

/** SETRANGE key offset value: the result's length is bounded by the value limit. */
const setrange = dataCommand('setrange', 4, ['write'], [1, 1, 1], (args, context) => {
  const offset = integerAt(args, 2)
  if (offset < 0) throw new RespError('ERR', 'offset is out of range')
  const value = valueArg(args, 3, context)
  if (value.length > 0 && offset + value.length > context.server.limits.maxValueBytes)
    throw new RespError('ERR', 'string exceeds maximum allowed size (proto-max-bulk-len)')
  return plan({ op: 'setrange', key: keyArg(args, 1, context), value, start: offset }, integerOf)
})

/** INCR, DECR, INCRBY and DECRBY: one logged command each, applied once however often retried. */
function counter(name: string, arity: number, delta: (args: readonly Buffer[]) => bigint): DataCommandSpec {
  return dataCommand(name, arity, ['write', 'fast'], [1, 1, 1], (args, context) =>
    plan({ op: 'incr', key: keyArg(args, 1, context), value: delta(args).toString() }, (result) => integerReply(BigInt(result.value))),
  )
}

function deltaArgument(args: readonly Buffer[], index: number): bigint {
  const delta = parseInt64(argText(args, index))
  if (delta === null) throw new RespError('ERR', NOT_AN_INTEGER)
  return delta
}

const incr = counter('incr', 2, () => 1n)
const decr = counter('decr', 2, () => -1n)
const incrby = counter('incrby', 3, (args) => deltaArgument(args, 2))
const decrby = counter('decrby', 3, (args) => {
  const delta = deltaArgument(args, 2)
  if (delta === INT64_MIN) throw new RespError('ERR', 'decrement would overflow')
  return -delta
})

const incrbyfloat = dataCommand('incrbyfloat', 3, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'incrbyfloat', key: keyArg(args, 1, context), value: binary(arg(args, 2)) }, (result) => bulkReply(result.value)),
)

const mget = dataCommand('mget', -2, ['readonly', 'fast'], [1, -1, 1], (args, context) => {
  const [key, ...keys] = keysFrom(args, 1, context)
  return plan({ op: 'mget', key: key as string, value: '', keys }, values)
})

/** MSET and MSETNX: key value pairs, all written in one entry or (MSETNX, when any exists) none. */
function msetCommand(args: readonly Buffer[], context: CommandContext, name: string): KvCommand {
  if (args.length % 2 === 0) throw new RespError('ERR', `wrong number of arguments for '${name}' command`)
  const [key, ...keys] = keysFrom(args, 1, context, 2)
  const pairValues: string[] = []
  for (let at = 2; at < args.length; at += 2) pairValues.push(valueArg(args, at, context))
  return { op: 'mset', key: key as string, value: '', keys, values: pairValues }
}

const mset = dataCommand('mset', -3, ['write'], [1, -1, 2], (args, context) => plan(msetCommand(args, context, 'mset'), ok))
const msetnx = dataCommand('msetnx', -3, ['write'], [1, -1, 2], (args, context) =>
  plan({ ...msetCommand(args, context, 'msetnx'), condition: 'nx' }, integerOf),
)

function multiKey(name: string, op: 'delete' | 'exists', flags: DataCommandSpec['flags']): DataCommandSpec {
  return dataCommand(name, -2, flags, [1, -1, 1], (args, context) => {
    const [key, ...keys] = keysFrom(args, 1, context)
    return plan({ op, key: key as string, value: '', keys }, integerOf)
  })
}

const del = multiKey('del', 'delete', ['write'])
const unlink = multiKey('unlink', 'delete', ['write', 'fast'])
const exists = multiKey('exists', 'exists', ['readonly', 'fast'])

/** EXPIRE key seconds [NX | XX | GT | LT], and PEXPIRE, EXPIREAT, PEXPIREAT. */
function expireCommand(name: string, option: 'EX' | 'PX' | 'EXAT' | 'PXAT'): DataCommandSpec {
  return dataCommand(name, -3, ['write', 'fast'], [1, 1, 1], (args, context) => {
    const command: KvCommand = { op: 'expire', key: keyArg(args, 1, context), value: '' }
    // Options are checked before the amount, as Redis does.
    const flags = new Set<string>()
    for (let at = 3; at < args.length; at++) {
      const flag = optionAt(args, at)
      if (!['NX', 'XX', 'GT', 'LT'].includes(flag)) throw new RespError('ERR', `Unsupported option ${argText(args, at)}`)
      flags.add(flag)
    }
    if (flags.has('NX') && flags.size > 1) throw new RespError('ERR', 'NX and XX, GT or LT options at the same time are not compatible')
    if (flags.has('GT') && flags.has('LT')) throw new RespError('ERR', 'GT and LT options at the same time are not compatible')
    // XX adds nothing to GT, which already needs a time to live; to LT it adds that need.
    const condition = flags.has('GT')
      ? 'gt'
      : flags.has('LT')
        ? flags.has('XX')
          ? 'xx-lt'
          : 'lt'
        : flags.has('NX')
          ? 'nx'
          : flags.has('XX')
            ? 'xx'
            : undefined
    const amount = parseInt64(argText(args, 2))
    if (amount === null) throw new RespError('ERR', NOT_AN_INTEGER)
    const ms = option === 'EX' || option === 'EXAT' ? amount * 1000n : amount
    if (ms > BigInt(MAX_EXPIRY_MS) || ms < -BigInt(MAX_EXPIRY_MS)) throw new RespError('ERR', `invalid expire time in '${name}' command`)
    command.expiry = option === 'EX' || option === 'PX' ? { kind: 'in', ms: Number(ms) } : { kind: 'at', ms: Number(ms) }
    if (condition) command.condition = condition
    return plan(command, integerOf)
  })
}

const persist = dataCommand('persist', 2, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'persist', key: keyArg(args, 1, context), value: '' }, integerOf),
)

/** TTL (seconds, rounded as Redis rounds) and PTTL: -2 for a missing key, -1 for one without a time to live. */
function ttlCommand(name: string, unitMs: number): DataCommandSpec {
  return dataCommand(name, 2, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
    plan({ op: 'ttl', key: keyArg(args, 1, context), value: '' }, (result) => {
      const ms = result.integer ?? 0
      return integerReply(ms < 0 ? ms : Math.floor((ms + unitMs / 2) / unitMs))
    }),
  )
}

const type = dataCommand('type', 2, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'type', key: keyArg(args, 1, context), value: '' }, (result) => simpleReply(result.value)),
)

const dbsize = dataCommand('dbsize', 1, ['readonly', 'fast'], NO_KEYS, () => plan({ op: 'dbsize', key: '', value: '' }, integerOf))

const keysCommand = dataCommand('keys', 2, ['readonly'], NO_KEYS, (args) => plan({ op: 'keys', key: '', value: binary(arg(args, 1)) }, values))

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: the next cursor and a page of keys. */
const scan = dataCommand('scan', -2, ['readonly'], NO_KEYS, (args) => {
  const cursorText = argText(args, 1)
  const cursor = Number(cursorText)
  if (!/^\d+$/.test(cursorText) || !Number.isSafeInteger(cursor)) throw new RespError('ERR', 'invalid cursor')
  const command: KvCommand = { op: 'scan', key: '', value: '*', start: cursor, end: 10 }
  for (let at = 2; at < args.length; at += 2) {
    const option = optionAt(args, at)
    if (at + 1 >= args.length) throw new RespError('ERR', 'syntax error')
    if (option === 'MATCH') command.value = binary(arg(args, at + 1))
    else if (option === 'TYPE') command.type = argText(args, at + 1).toLowerCase()
    else if (option === 'COUNT') {
      command.end = integerAt(args, at + 1)
      if (command.end < 1) throw new RespError('ERR', 'syntax error')
    } else throw new RespError('ERR', 'syntax error')
  }
  return plan(command, (result) => arrayReply([bulkReply(String(result.integer ?? 0)), values(result)]))
})

/** FLUSHDB and FLUSHALL [ASYNC | SYNC]: through the log, like every write; there is one database. */
function flushCommand(name: string): DataCommandSpec {
  return dataCommand(name, -1, ['write'], NO_KEYS, (args) => {
    if (args.length > 2 || (args.length === 2 && !['ASYNC', 'SYNC'].includes(optionAt(args, 1)))) throw new RespError('ERR', 'syntax error')
    return plan({ op: 'flush', key: '', value: '' }, ok)
  })
}

/** Field value pairs from argument `from` on, checked against the key and value limits. */
function fieldPairs(args: readonly Buffer[], from: number, context: CommandContext, name: string): { fields: string[]; values: string[] } {
  if ((args.length - from) % 2 !== 0) throw new RespError('ERR', `wrong number of arguments for '${name}' command`)
  const fields: string[] = []
  const pairValues: string[] = []
  for (let at = from; at < args.length; at += 2) {
    fields.push(keyArg(args, at, context))
    pairValues.push(valueArg(args, at + 1, context))
  }
  return { fields, values: pairValues }
}

const hset = dataCommand('hset', -4, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hset', key: keyArg(args, 1, context), value: '', ...fieldPairs(args, 2, context, 'hset') }, integerOf),
)
const hmset = dataCommand('hmset', -4, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hset', key: keyArg(args, 1, context), value: '', ...fieldPairs(args, 2, context, 'hmset') }, ok),
)
const hget = dataCommand('hget', 3, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hget', key: keyArg(args, 1, context), value: '', fields: [keyArg(args, 2, context)] }, valueOrNull),
)
const hmget = dataCommand('hmget', -3, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hmget', key: keyArg(args, 1, context), value: '', fields: keysFrom(args, 2, context) }, values),
)
const hdel = dataCommand('hdel', -3, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hdel', key: keyArg(args, 1, context), value: '', fields: keysFrom(args, 2, context) }, integerOf),
)
/** HGETALL: a map in RESP3, a flat field value array in RESP2. */
const hgetall = dataCommand('hgetall', 2, ['readonly'], [1, 1, 1], (args, context) =>
  plan({ op: 'hgetall', key: keyArg(args, 1, context), value: '' }, (result, { client }) => {
    const flat = (result.values ?? []) as string[]
    if (client.protocol === 2) return values(result)
    const entries: Array<[RespReply, RespReply]> = []
    for (let at = 0; at + 1 < flat.length; at += 2)
      entries.push([bulkReply(Buffer.from(flat[at] as string, 'latin1')), bulkReply(Buffer.from(flat[at + 1] as string, 'latin1'))])
    return mapReply(entries)
  }),
)
const hincrby = dataCommand('hincrby', 4, ['write', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hincrby', key: keyArg(args, 1, context), value: deltaArgument(args, 3).toString(), fields: [keyArg(args, 2, context)] }, (result) =>
    integerReply(BigInt(result.value)),
  ),
)
const hlen = dataCommand('hlen', 2, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hlen', key: keyArg(args, 1, context), value: '' }, integerOf),
)
const hexists = dataCommand('hexists', 3, ['readonly', 'fast'], [1, 1, 1], (args, context) =>
  plan({ op: 'hexists', key: keyArg(args, 1, context), value: '', fields: [keyArg(args, 2, context)] }, integerOf),
)

export const kvCommands: readonly DataCommandSpec[] = [
  get,
  set,
  setnx,
  setWithExpiry('setex', 'EX'),
  setWithExpiry('psetex', 'PX'),
  getset,
  getdel,
  getex,
  strlen,
  append,
  getrange,
  setrange,
  incr,
  decr,
  incrby,
  decrby,
  incrbyfloat,
  mget,
  mset,
  msetnx,
  del,
  unlink,
  exists,
  expireCommand('expire', 'EX'),
  expireCommand('pexpire', 'PX'),
  expireCommand('expireat', 'EXAT'),
  expireCommand('pexpireat', 'PXAT'),
  persist,
  ttlCommand('ttl', 1000),
  ttlCommand('pttl', 1),
  type,
  dbsize,
  keysCommand,
  scan,
  flushCommand('flushdb'),
  flushCommand('flushall'),
  hset,
  hmset,
  hget,
  hmget,
  hdel,
  hgetall,
  hincrby,
  hlen,
  hexists,
]
