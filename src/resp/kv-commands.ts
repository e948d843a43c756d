// The data commands: argument and size checks here, the data itself in the KvBackend. A value or key
// over its limit is refused before the backend sees it, and the connection stays usable. Multi-key
// commands go to the backend a slice of keys at a time and stop between slices once their client
// has gone, so a million-key EXISTS from a client that hung up does not run to the end.

import { type CommandContext, type CommandSpec, arg, argText } from './commands.js'
import { RespError } from './errors.js'
import type { RespLimits } from './limits.js'
import { NULL_BULK_REPLY, OK_REPLY, bulkReply, integerReply } from './reply.js'
import type { SetOptions } from './backend.js'
import { INT64_MIN, parseInt64 } from '../base/int64.js'

function checkKey(key: Buffer, limits: RespLimits): Buffer {
  if (key.length > limits.maxKeyBytes) throw new RespError('ERR', `key too large (${key.length} bytes, max ${limits.maxKeyBytes})`)
  return key
}

function checkValue(value: Buffer, limits: RespLimits): Buffer {
  if (value.length > limits.maxValueBytes) throw new RespError('ERR', `value too large (${value.length} bytes, max ${limits.maxValueBytes})`)
  return value
}

/** Arguments from `from` on, each checked as a key. */
function keysFrom(args: readonly Buffer[], from: number, limits: RespLimits): Buffer[] {
  return args.slice(from).map((key) => checkKey(key, limits))
}

/**
 * Keys per backend call of a multi-key command: small enough that work for a client that has gone
 * stops soon (lograft's backends take the keys one by one anyway), large enough that a backend
 * able to answer many keys at once still can. Atomicity was never across keys (the README says so).
 */
const KEYS_PER_BACKEND_CALL = 64

/**
 * The sum of `count` over `keys` in slices, checking before each that the client is still there. A
 * key named twice counts as the backend counts it (DEL removes it once: the second time it is gone).
 */
async function countBySlices(keys: readonly Buffer[], { signal }: CommandContext, count: (slice: Buffer[]) => Promise<number>): Promise<number> {
  let total = 0
  for (let at = 0; at < keys.length; at += KEYS_PER_BACKEND_CALL) {
    signal.throwIfAborted()
    total += await count(keys.slice(at, at + KEYS_PER_BACKEND_CALL))
  }
  return total
}

const get: CommandSpec = {
  name: 'get',
  arity: 2,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  run: async (args, { backend, server }) => bulkReply(await backend.get(checkKey(arg(args, 1), server.limits))),
}

/** SET's options, as Redis reads them: NX or XX, and GET. Expiry options are refused, not ignored. */
function setOptions(args: readonly Buffer[]): SetOptions {
  const options: SetOptions = {}
  for (let at = 3; at < args.length; at++) {
    const option = argText(args, at).toUpperCase()
    if ((option === 'NX' || option === 'XX') && options.condition === undefined) options.condition = option === 'NX' ? 'nx' : 'xx'
    else if (option === 'GET' && !options.returnOld) options.returnOld = true
    else if (['EX', 'PX', 'EXAT', 'PXAT', 'KEEPTTL'].includes(option)) throw new RespError('ERR', `SET ${option}: expiry is not supported yet`)
    else throw new RespError('ERR', 'syntax error')
  }
  return options
}

/** SET key value [NX | XX] [GET]: one logged write; a condition is decided where it applies, in the log's order. */
const set: CommandSpec = {
  name: 'set',
  arity: -3,
  flags: ['write'],
  keys: [1, 1, 1],
  run: async (args, { backend, server }) => {
    const options = setOptions(args)
    const key = checkKey(arg(args, 1), server.limits)
    const value = checkValue(arg(args, 2), server.limits)
    if (options.condition === undefined && !options.returnOld) {
      await backend.set(key, value)
      return OK_REPLY
    }
    const { written, old } = await backend.setWith(key, value, options)
    if (options.returnOld) return bulkReply(old)
    return written ? OK_REPLY : NULL_BULK_REPLY
  },
}

/** SETNX key value: 1 if it set the missing key, 0 if the key existed. */
const setnx: CommandSpec = {
  name: 'setnx',
  arity: 3,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  run: async (args, { backend, server }) => {
    const { written } = await backend.setWith(checkKey(arg(args, 1), server.limits), checkValue(arg(args, 2), server.limits), { condition: 'nx' })
    return integerReply(written ? 1 : 0)
  },
}

/** GETSET key value: SET key value GET. */
const getset: CommandSpec = {
  name: 'getset',
  arity: 3,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  run: async (args, { backend, server }) =>
    bulkReply((await backend.setWith(checkKey(arg(args, 1), server.limits), checkValue(arg(args, 2), server.limits), { returnOld: true })).old),
}

/** GETDEL key: the value, deleted in the same logged command. */
const getdel: CommandSpec = {
  name: 'getdel',
  arity: 2,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  run: async (args, { backend, server }) => bulkReply(await backend.getdel(checkKey(arg(args, 1), server.limits))),
}

/** STRLEN key: the value's length in bytes (0 for a missing key), by a linearizable read. */
const strlen: CommandSpec = {
  name: 'strlen',
  arity: 2,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  run: async (args, { backend, server }) => integerReply((await backend.get(checkKey(arg(args, 1), server.limits)))?.length ?? 0),
}

const append: CommandSpec = {
  name: 'append',
  arity: 3,
  flags: ['write'],
  keys: [1, 1, 1],
  run: async (args, { backend, server }) => integerReply(await backend.append(checkKey(arg(args, 1), server.limits), checkValue(arg(args, 2), server.limits))),
}

const del: CommandSpec = {
  name: 'del',
  arity: -2,
  flags: ['write'],
  keys: [1, -1, 1],
  run: async (args, context) => {
    const { backend, server } = context
    return integerReply(await countBySlices(keysFrom(args, 1, server.limits), context, (keys) => backend.del(keys)))
  },
}

const exists: CommandSpec = {
  name: 'exists',
  arity: -2,
  flags: ['readonly', 'fast'],
  keys: [1, -1, 1],
  run: async (args, context) => {
    const { backend, server } = context
    return integerReply(await countBySlices(keysFrom(args, 1, server.limits), context, (keys) => backend.exists(keys)))
  },
}

/** The integer argument at `index`, refused as Redis refuses it. */
function deltaArgument(args: readonly Buffer[], index: number): bigint {
  const delta = parseInt64(argText(args, index))
  if (delta === null) throw new RespError('ERR', 'value is not an integer or out of range')
  return delta
}

/** INCR, DECR, INCRBY and DECRBY: one logged command each, applied once however often retried. */
function counter(name: string, arity: number, delta: (args: readonly Buffer[]) => bigint): CommandSpec {
  return {
    name,
    arity,
    flags: ['write', 'fast'],
    keys: [1, 1, 1],
    run: async (args, { backend, server }) => integerReply(await backend.incrBy(checkKey(arg(args, 1), server.limits), delta(args))),
  }
}

const incr = counter('incr', 2, () => 1n)
const decr = counter('decr', 2, () => -1n)
const incrby = counter('incrby', 3, (args) => deltaArgument(args, 2))
const decrby = counter('decrby', 3, (args) => {
  const delta = deltaArgument(args, 2)
  if (delta === INT64_MIN) throw new RespError('ERR', 'decrement would overflow')
  return -delta
})

export const kvCommands: readonly CommandSpec[] = [get, set, setnx, getset, getdel, strlen, append, del, exists, incr, decr, incrby, decrby]
