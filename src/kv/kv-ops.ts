// What each KV operation does to the state, with Redis's rules and error words. Writes first move log
// time to their entry's (so an entry's expiry decisions are the same on every replica) and delete
// their keys if those have expired; reads change nothing and see log time as the last write left it.
//
// Cost of each op, n the keys given, N the keys stored, F a hash's fields, V a value's bytes:
// get, put, append, incr, incrbyfloat, getdel, getex, expire, persist, ttl, type, hget, hlen,
// hexists, hincrby: O(1) (plus V to copy a value); getrange, setrange: O(V); mget, mset, delete,
// exists, purge: O(n); hset, hdel, hmget: O(fields given); hgetall, fingerprint: O(F) (fingerprint
// O(F log F) to sort); keys: O(N); scan: O(count + buckets walked); dbsize: O(1); flush: O(1) here
// (the old maps are dropped whole); multi: the sum of its commands and watches.

import { type Hash, createHash } from 'node:crypto'
import { addInt64 } from '../base/int64.js'
import { globMatch } from './glob.js'
import type { KvHash, KvState, KvValue } from './kv-state.js'
import { SCAN_BUCKETS } from './scan-index.js'
import type { KvCommand, KvExpiry, KvOp, KvResult } from './types.js'

/** The KV machine's flavour (see kvMachine). */
export interface KvOpsOptions {
  appendReturnsOldValue: boolean
}

/** Where a command applies: its log time (the leader's clock stamped in the entry; for reads, the serving leader's clock now). */
export interface KvApplyContext {
  readonly timeMs: number
}

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'
export const NOT_AN_INTEGER = 'ERR value is not an integer or out of range'
const OVERFLOW = 'ERR increment or decrement would overflow'
const NOT_A_FLOAT = 'ERR value is not a valid float'
const NOT_FINITE = 'ERR increment would produce NaN or Infinity'
const HASH_NOT_AN_INTEGER = 'ERR hash value is not an integer'

const READ_OPS: ReadonlySet<KvOp> = new Set<KvOp>([
  'get',
  'mget',
  'exists',
  'getrange',
  'ttl',
  'type',
  'dbsize',
  'keys',
  'scan',
  'fingerprint',
  'hget',
  'hmget',
  'hgetall',
  'hlen',
  'hexists',
])

/**
 * Whether the command only reads: served as a linearizable read, never logged. A transaction of
 * reads alone, watching nothing, is a read too (pipelined reads travel that way).
 */
export function isReadCommand(command: KvCommand): boolean {
  if (command.op === 'multi') return (command.watches ?? []).length === 0 && (command.commands ?? []).every(isReadCommand)
  return READ_OPS.has(command.op)
}

const KEYLESS_OPS: ReadonlySet<KvOp> = new Set<KvOp>(['dbsize', 'keys', 'scan', 'flush', 'multi'])

/** Whether the op, or one in the transaction, names no key but is about every key (dbsize, keys, scan, flush). */
export function spansEveryKey(command: KvCommand): boolean {
  return (command.op !== 'multi' && KEYLESS_OPS.has(command.op)) || (command.commands ?? []).some(spansEveryKey)
}

/** Every key a command names: `key`, then `keys`, then those of a transaction's watches and commands. */
export function commandKeys(command: KvCommand): string[] {
  const keys = KEYLESS_OPS.has(command.op) ? [] : [command.key]
  if (command.keys) keys.push(...command.keys)
  if (command.watches) for (const watch of command.watches) keys.push(watch.key)
  if (command.commands) for (const inner of command.commands) keys.push(...commandKeys(inner))
  return keys
}

/** All the bytes of keys, fields and values a command carries, its transaction's commands included. */
export function commandBytes(command: KvCommand): number {
  let total = command.key.length + command.value.length
  for (const list of [command.keys, command.values, command.fields]) for (const item of list ?? []) total += item.length
  for (const inner of command.commands ?? []) total += commandBytes(inner)
  return total
}

/** The key that decides where a command goes in a sharded store: its first key ('' for none). */
export function routingKey(command: KvCommand): string {
  return commandKeys(command)[0] ?? ''
}

/** Whether a put with `condition` writes, given whether its key exists (SET NX writes a missing key, XX an existing one). */
export function putAllowed(condition: KvCommand['condition'], found: boolean): boolean {
  return condition === undefined || (condition === 'xx') === found
}

function ran(value: string, found: boolean, length = value.length): KvResult {
  return { value, found, length }
}

function refused(error: string, found = false): KvResult {
  return { value: '', found, length: 0, error }
}

function counted(integer: number, found = integer > 0): KvResult {
  return { value: '', found, length: 0, integer }
}

/** The log time a write's expiry names, or undefined for none; 'keep' for the key's present one. */
function deadlineOf(expiry: KvExpiry | undefined, clockMs: number): number | undefined | 'keep' {
  if (expiry === undefined || expiry.kind === 'persist') return undefined
  if (expiry.kind === 'keep') return 'keep'
  return expiry.kind === 'in' ? clockMs + expiry.ms : expiry.ms
}

/** Stores a string with the deadline a write gave it; a deadline already past deletes the key, as Redis does. */
function store(state: KvState, key: string, value: string, deadline: number | undefined | 'keep'): void {
  if (deadline !== 'keep' && deadline !== undefined && deadline <= state.clockMs) {
    state.delete(key)
    return
  }
  state.set(key, value)
  if (deadline !== 'keep') state.setDeadline(key, deadline)
}

/**
 * A number as Redis's INCRBYFLOAT writes it: 17 digits after the point, trailing zeros trimmed, never
 * an exponent. Redis computes in long double; rounding the double to 15 significant digits first
 * hides the binary noise that long double does not show (0.1 + 0.2 is "0.3" there too).
 */
export function formatFloat(value: number): string {
  const rounded = Number(value.toPrecision(15))
  if (Math.abs(rounded) >= 1e21) return BigInt(rounded).toString()
  const shortest = String(rounded)
  // Exponent form only for tiny numbers here, where 17 places are all there is to show.
  const text = shortest.includes('e') ? rounded.toFixed(17).replace(/\.?0+$/, '') : shortest
  return text === '-0' ? '0' : text
}

const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const INFINITY_TEXT = /^[+-]?inf(inity)?$/i

/** A float argument or stored value as Redis reads one (decimal or exponent form, or infinity); null if it is none. */
function parseFloatText(text: string): number | null {
  if (INFINITY_TEXT.test(text)) return text.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  if (!FLOAT_TEXT.test(text)) return null
  return Number(text)
}

/** Redis's GETRANGE over a value of `length`: the [from, to) slice of start..end (inclusive, negative from the end). */
function rangeOf(length: number, start: number, end: number): [number, number] {
  if (start < 0 && end < 0 && start > end) return [0, 0]
  const from = start < 0 ? Math.max(0, length + start) : start
  let to = end < 0 ? Math.max(0, length + end) : end
  if (to >= length) to = length - 1
  if (from > to || length === 0) return [0, 0]
  return [from, to + 1]
}

/** A digest of everything WATCH guards about a key (type, value, deadline): EXEC compares it where it applies. */
export function fingerprint(state: KvState, key: string): string {
  const value = state.get(key)
  if (value === undefined) return 'none'
  return digestValue(createHash('sha1'), value, state.deadlines.get(key)).digest('base64')
}

/**
 * Feeds one key's value and deadline to `hash`, every part length-prefixed and a hash's fields in
 * order, so that equal digests mean equal contents: WATCH's fingerprints, and the sorted digest of
 * a moved shard's legacy 'end' chunk (new moves sum ShardDigest's per-key hashes instead).
 */
export function digestValue(hash: Hash, value: KvValue, deadline: number | undefined): Hash {
  hash.update(`@${deadline ?? -1};`)
  if (typeof value === 'string') return hash.update(`s${value.length}:`).update(value, 'latin1')
  hash.update(`h${value.size}:`)
  for (const field of [...value.keys()].sort()) {
    const fieldValue = value.get(field) as string
    hash.update(`${field.length}:`).update(field, 'latin1').update(`${fieldValue.length}:`).update(fieldValue, 'latin1')
  }
  return hash
}

/** The hash at `key` for a hash op: undefined if missing, WRONGTYPE if it holds a string. */
function hashAt(state: KvState, key: string): KvHash | undefined | 'wrongtype' {
  const value = state.get(key)
  return typeof value === 'string' ? 'wrongtype' : value
}

/** Applies one KV command to `state` (in place) and returns its result. */
export function applyKv(state: KvState, command: KvCommand, context: KvApplyContext, options: KvOpsOptions): KvResult {
  if (!isReadCommand(command)) {
    state.advanceClock(context.timeMs)
    // Only a store with deadlines has keys to expire; a transaction's commands expire their own.
    if (state.deadlines.size > 0 && command.op !== 'multi') for (const key of commandKeys(command)) state.expireIfDue(key)
  }
  const { key } = command
  switch (command.op) {
    case 'get': {
      const value = state.getString(key)
      if (value === 'wrongtype') return refused(WRONGTYPE, true)
      return value === undefined ? ran('', false) : ran(value, true)
    }
    case 'put': {
      const old = state.get(key)
      if (command.returnOld && typeof old === 'object') return refused(WRONGTYPE, true)
      const found = old !== undefined
      const allowed = putAllowed(command.condition, found)
      if (allowed) store(state, key, command.value, deadlineOf(command.expiry, state.clockMs))
      const length = allowed ? command.value.length : typeof old === 'string' ? old.length : 0
      return { value: command.returnOld && typeof old === 'string' ? old : '', found, length }
    }
    case 'append': {
      const old = state.getString(key)
      if (old === 'wrongtype') return refused(WRONGTYPE, true)
      const updated = (old ?? '') + command.value
      state.set(key, updated)
      return ran(options.appendReturnsOldValue ? (old ?? '') : '', old !== undefined, updated.length)
    }
    case 'incr': {
      const old = state.getString(key)
      if (old === 'wrongtype') return refused(WRONGTYPE, true)
      const next = addInt64(old ?? '0', command.value) // A missing key counts as 0.
      if (next === 'not-an-integer' || next === 'overflow') return refused(next === 'overflow' ? OVERFLOW : NOT_AN_INTEGER, old !== undefined)
      state.set(key, next)
      return ran(next, old !== undefined)
    }
    case 'incrbyfloat': {
      const old = state.getString(key)
      if (old === 'wrongtype') return refused(WRONGTYPE, true)
      const current = parseFloatText(old ?? '0')
      const by = parseFloatText(command.value)
      if (current === null || by === null) return refused(NOT_A_FLOAT, old !== undefined)
      const sum = current + by
      if (!Number.isFinite(sum)) return refused(NOT_FINITE, old !== undefined)
      const next = formatFloat(sum)
      state.set(key, next)
      return ran(next, old !== undefined)
    }
    case 'getdel': {
      const old = state.getString(key)
      if (old === 'wrongtype') return refused(WRONGTYPE, true)
      state.delete(key)
      return old === undefined ? ran('', false) : ran(old, true, 0)
    }
    case 'getex': {
      const value = state.getString(key)
      if (value === 'wrongtype') return refused(WRONGTYPE, true)
      if (value === undefined) return ran('', false)
      // Redis reads GETEX's amount only for a key that exists: its refusal travels in value.
      if (command.value !== '') return refused(command.value, true)
      if (command.expiry) store(state, key, value, deadlineOf(command.expiry, state.clockMs))
      return ran(value, true)
    }
    case 'getrange': {
      const value = state.getString(key)
      if (value === 'wrongtype') return refused(WRONGTYPE, true)
      const [from, to] = rangeOf(value?.length ?? 0, command.start ?? 0, command.end ?? -1)
      return ran((value ?? '').slice(from, to), value !== undefined)
    }
    case 'setrange': {
      const old = state.getString(key)
      if (old === 'wrongtype') return refused(WRONGTYPE, true)
      const offset = command.start ?? 0
      const current = old ?? ''
      if (command.value.length === 0) return counted(current.length, old !== undefined)
      const padded = current.length < offset ? current + '\0'.repeat(offset - current.length) : current
      const updated = padded.slice(0, offset) + command.value + padded.slice(offset + command.value.length)
      state.set(key, updated)
      return counted(updated.length, old !== undefined)
    }
    case 'mget':
      return {
        value: '',
        found: true,
        length: 0,
        values: [key, ...(command.keys ?? [])].map((each) => {
          const value = state.get(each)
          return typeof value === 'string' ? value : null
        }),
      }
    case 'mset': {
      const keys = [key, ...(command.keys ?? [])]
      const values = command.values ?? []
      if (command.condition === 'nx' && keys.some((each) => state.has(each))) return counted(0)
      keys.forEach((each, at) => store(state, each, values[at] ?? '', undefined))
      return counted(1)
    }
    case 'delete': {
      let deleted = 0
      let first = false
      for (const each of [key, ...(command.keys ?? [])]) {
        const existed = state.delete(each)
        if (existed) deleted++
        if (each === key && existed) first = true
      }
      return counted(deleted, first)
    }
    case 'exists': {
      const count = [key, ...(command.keys ?? [])].filter((each) => state.has(each)).length
      return counted(count)
    }
    case 'expire': {
      if (!state.has(key)) return counted(0)
      const current = state.deadlines.get(key)
      const at = deadlineOf(command.expiry, state.clockMs)
      if (typeof at !== 'number') return counted(0)
      const condition = command.condition
      const allowed =
        condition === undefined ||
        (condition === 'nx' && current === undefined) ||
        (condition === 'xx' && current !== undefined) ||
        (condition === 'gt' && current !== undefined && at > current) ||
        (condition === 'lt' && (current === undefined || at < current)) ||
        (condition === 'xx-lt' && current !== undefined && at < current)
      if (!allowed) return counted(0, true)
      if (at <= state.clockMs) state.delete(key)
      else state.setDeadline(key, at)
      return counted(1)
    }
    case 'persist': {
      if (!state.has(key) || !state.deadlines.has(key)) return counted(0)
      state.setDeadline(key, undefined)
      return counted(1)
    }
    case 'ttl': {
      if (!state.has(key)) return counted(-2, false)
      const at = state.deadlines.get(key)
      if (at === undefined) return counted(-1, true)
      return counted(Math.max(0, at - Math.max(state.clockMs, context.timeMs)), true)
    }
    case 'type': {
      const value = state.get(key)
      return ran(value === undefined ? 'none' : typeof value === 'string' ? 'string' : 'hash', value !== undefined)
    }
    case 'dbsize':
      return counted(state.size, true)
    case 'keys': {
      const keys: string[] = []
      for (const each of state.entries.keys()) if (globMatch(command.value, each) && state.has(each)) keys.push(each)
      return { value: '', found: true, length: 0, values: keys }
    }
    case 'scan':
      return scan(state, command)
    case 'flush':
      state.clear()
      return counted(0, true)
    case 'multi': {
      for (const watch of command.watches ?? []) if (fingerprint(state, watch.key) !== watch.fingerprint) return ran('', false)
      const results = (command.commands ?? []).map((inner) => applyKv(state, inner, context, options))
      return { value: '', found: true, length: 0, results }
    }
    case 'fingerprint':
      return ran(fingerprint(state, key), state.has(key))
    case 'purge': {
      // The keys were due when the leader proposed this entry; deleted above if still due now.
      return counted(0, true)
    }
    case 'hset': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      const target = hash ?? new Map<string, string>()
      let added = 0
      const values = command.values ?? []
      ;(command.fields ?? []).forEach((field, at) => {
        if (!target.has(field)) added++
        target.set(field, values[at] ?? '')
      })
      if (!hash) state.set(key, target)
      return counted(added, hash !== undefined)
    }
    case 'hget': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      const value = hash?.get(command.fields?.[0] ?? '')
      return value === undefined ? ran('', false) : ran(value, true)
    }
    case 'hmget': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      return { value: '', found: hash !== undefined, length: 0, values: (command.fields ?? []).map((field) => hash?.get(field) ?? null) }
    }
    case 'hgetall': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      const values: string[] = []
      for (const [field, value] of hash ?? []) values.push(field, value)
      return { value: '', found: hash !== undefined, length: 0, values }
    }
    case 'hdel': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      if (!hash) return counted(0)
      let deleted = 0
      for (const field of command.fields ?? []) if (hash.delete(field)) deleted++
      if (hash.size === 0) state.delete(key)
      return counted(deleted, true)
    }
    case 'hincrby': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      const field = command.fields?.[0] ?? ''
      const next = addInt64(hash?.get(field) ?? '0', command.value)
      if (next === 'not-an-integer') return refused(HASH_NOT_AN_INTEGER, hash !== undefined)
      if (next === 'overflow') return refused(OVERFLOW, hash !== undefined)
      const target = hash ?? new Map<string, string>()
      target.set(field, next)
      if (!hash) state.set(key, target)
      return ran(next, hash !== undefined)
    }
    case 'hlen': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      return counted(hash?.size ?? 0, hash !== undefined)
    }
    case 'hexists': {
      const hash = hashAt(state, key)
      if (hash === 'wrongtype') return refused(WRONGTYPE, true)
      return counted(hash?.has(command.fields?.[0] ?? '') ? 1 : 0, hash !== undefined)
    }
  }
}

/**
 * SCAN: walks buckets from the cursor (see ScanIndex) until `count` keys were seen, or ten times as
 * many buckets as `count` in a large store (Redis's bound on empty visits), the whole index in a
 * small one; keys that expired, or do not match the pattern or type, are skipped after.
 */
function scan(state: KvState, command: KvCommand): KvResult {
  const count = Math.max(1, command.end ?? 10)
  if (state.size === 0) return { value: '', found: true, length: 0, integer: 0, values: [] }
  const bucketsForCount = Math.ceil((count * SCAN_BUCKETS) / state.size)
  const { keys, next } = state.scanIndex().walk(command.start ?? 0, count, Math.max(10 * count, 2 * bucketsForCount))
  const values = keys.filter((each) => {
    const value = state.get(each)
    if (value === undefined || !globMatch(command.value, each)) return false
    return command.type === undefined || command.type === (typeof value === 'string' ? 'string' : 'hash')
  })
  return { value: '', found: true, length: 0, integer: next, values }
}
