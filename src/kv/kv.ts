// The key/value state machine: Redis's string, key and hash commands over a KvState (kv-ops.ts says
// what each does). Keys and values are binary strings (one character per byte, "latin1"), so any
// bytes round-trip and V8 stores them compactly. Keys with a time to live expire by log time; the
// leader proposes purge entries for keys past their deadline (dueCommand), so the log moves past
// a deadline even when nobody writes.

import { protoCodec } from '../rpc/proto.js'
import { applyKv, isReadCommand } from './kv-ops.js'
import { KvState } from './kv-state.js'
import { KvStateEncoding, decodeKvState } from './kv-state-encoding.js'
import type { Codec, StateMachine } from '../statemachine/types.js'
import type { KvCommand, KvExpiry, KvOp, KvResult } from './types.js'

export type { KvCommand, KvExpiry, KvOp, KvResult, KvWatch } from './types.js'
export { KvState, type KvHash, type KvValue } from './kv-state.js'
export { putAllowed, isReadCommand, commandKeys, routingKey, spansEveryKey, digestValue } from './kv-ops.js'

/** The flavour of {@link kvMachine}. */
export interface KvMachineOptions {
  /**
   * What Append reports besides the new length: the old value (the MIT Lab 2 flavour), or nothing
   * (so the session table does not keep a copy of every appended-to value).
   */
  appendReturnsOldValue: boolean
}

/** The most keys one purge entry deletes: a backlog of expired keys goes in several entries, none large. */
export const PURGE_BATCH_KEYS = 1000

// Wire numbers, in kv.proto's order.
const OPS: readonly KvOp[] = [
  'get',
  'put',
  'append',
  'delete',
  'incr',
  'getdel',
  'incrbyfloat',
  'getex',
  'getrange',
  'setrange',
  'mget',
  'mset',
  'exists',
  'expire',
  'persist',
  'ttl',
  'type',
  'dbsize',
  'keys',
  'scan',
  'flush',
  'multi',
  'fingerprint',
  'purge',
  'hset',
  'hget',
  'hmget',
  'hdel',
  'hgetall',
  'hincrby',
  'hlen',
  'hexists',
]
const CONDITIONS = [undefined, 'nx', 'xx', 'gt', 'lt', 'xx-lt'] as const
const EXPIRY_KINDS = [undefined, 'in', 'at', 'keep', 'persist'] as const
/** Ops whose start and end mean something (0 is a value there, not "absent"). */
const RANGE_OPS: ReadonlySet<KvOp> = new Set<KvOp>(['getrange', 'setrange', 'scan'])

export interface WireCommand {
  op: number
  key: Uint8Array
  value: Uint8Array
  condition: number
  returnOld: boolean
  expiryKind: number
  expiryMs: number
  keys: Uint8Array[]
  values: Uint8Array[]
  fields: Uint8Array[]
  start: number
  end: number
  type: string
  commands: WireCommand[]
  watches: Array<{ key: Uint8Array; fingerprint: string }>
}

export interface WireResult {
  value: Uint8Array
  found: boolean
  length: number
  error: string
  integer: number
  values: Array<{ present: boolean; value: Uint8Array }>
  results: WireResult[]
  hasResults: boolean
}

const wireCommand = protoCodec<WireCommand>('kv.proto', 'lograft.kv.KvCommand')
const wireResult = protoCodec<WireResult>('kv.proto', 'lograft.kv.KvResult')

export function toBinaryString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

export function fromBinaryString(text: string): Uint8Array {
  return Buffer.from(text, 'latin1')
}

const EMPTY_BYTES = new Uint8Array(0)

export function commandToWire(command: KvCommand): WireCommand {
  const expiry = command.expiry
  return {
    op: OPS.indexOf(command.op),
    key: fromBinaryString(command.key),
    value: command.value.length === 0 ? EMPTY_BYTES : fromBinaryString(command.value),
    condition: CONDITIONS.indexOf(command.condition),
    returnOld: command.returnOld === true,
    expiryKind: EXPIRY_KINDS.indexOf(expiry?.kind),
    expiryMs: expiry && 'ms' in expiry ? expiry.ms : 0,
    keys: (command.keys ?? []).map(fromBinaryString),
    values: (command.values ?? []).map(fromBinaryString),
    fields: (command.fields ?? []).map(fromBinaryString),
    start: command.start ?? 0,
    end: command.end ?? 0,
    type: command.type ?? '',
    commands: (command.commands ?? []).map(commandToWire),
    watches: (command.watches ?? []).map((watch) => ({ key: fromBinaryString(watch.key), fingerprint: watch.fingerprint })),
  }
}

function expiryFromWire(kind: number, ms: number): KvExpiry | undefined {
  const name = EXPIRY_KINDS[kind]
  if (kind < 0 || kind >= EXPIRY_KINDS.length) throw new Error(`unknown KV expiry kind ${kind}`)
  if (name === 'in' || name === 'at') return { kind: name, ms }
  return name === undefined ? undefined : { kind: name }
}

export function commandFromWire(wire: WireCommand): KvCommand {
  const op = OPS[wire.op]
  if (!op) throw new Error(`unknown KV op ${wire.op}`)
  if (wire.condition < 0 || wire.condition >= CONDITIONS.length) throw new Error(`unknown KV condition ${wire.condition}`)
  const command: KvCommand = { op, key: toBinaryString(wire.key), value: toBinaryString(wire.value) }
  const condition = CONDITIONS[wire.condition]
  if (condition !== undefined) command.condition = condition
  if (wire.returnOld) command.returnOld = true
  const expiry = expiryFromWire(wire.expiryKind, wire.expiryMs)
  if (expiry) command.expiry = expiry
  if (wire.keys.length > 0) command.keys = wire.keys.map(toBinaryString)
  if (wire.values.length > 0) command.values = wire.values.map(toBinaryString)
  if (wire.fields.length > 0) command.fields = wire.fields.map(toBinaryString)
  if (RANGE_OPS.has(op)) {
    command.start = wire.start
    command.end = wire.end
  }
  if (wire.type) command.type = wire.type
  if (wire.commands.length > 0) command.commands = wire.commands.map(commandFromWire)
  if (wire.watches.length > 0) command.watches = wire.watches.map((watch) => ({ key: toBinaryString(watch.key), fingerprint: watch.fingerprint }))
  return command
}

export function resultToWire(result: KvResult): WireResult {
  return {
    value: result.value.length === 0 ? EMPTY_BYTES : fromBinaryString(result.value),
    found: result.found,
    length: result.length,
    error: result.error ?? '',
    integer: result.integer ?? 0,
    values: (result.values ?? []).map((value) => (value === null ? { present: false, value: EMPTY_BYTES } : { present: true, value: fromBinaryString(value) })),
    results: (result.results ?? []).map(resultToWire),
    hasResults: result.results !== undefined,
  }
}

export function resultFromWire(wire: WireResult): KvResult {
  const result: KvResult = { value: toBinaryString(wire.value), found: wire.found, length: wire.length }
  if (wire.error) result.error = wire.error
  if (wire.integer !== 0) result.integer = wire.integer
  if (wire.values.length > 0) result.values = wire.values.map((element) => (element.present ? toBinaryString(element.value) : null))
  if (wire.hasResults) result.results = wire.results.map(resultFromWire)
  return result
}

export const kvCommandCodec: Codec<KvCommand> = {
  encode: (command) => wireCommand.encode(commandToWire(command)),
  decode: (bytes) => commandFromWire(wireCommand.decode(bytes)),
}

export const kvResultCodec: Codec<KvResult> = {
  encode: (result) => wireResult.encode(resultToWire(result)),
  decode: (bytes) => resultFromWire(wireResult.decode(bytes)),
}

export const kvStateCodec: Codec<KvState> = {
  // One exact-size buffer, written in place: a field-by-field writer spent as long again
  // collecting its garbage as encoding.
  encode: (state) => new KvStateEncoding(state).next(Number.POSITIVE_INFINITY) as Uint8Array,
  decode: decodeKvState,
}

/** The purge entry for keys of `state` due by `nowMs`, or null when none is. */
export function purgeCommand(state: KvState, nowMs: number): KvCommand | null {
  const [first, ...rest] = state.keysDueBy(nowMs, PURGE_BATCH_KEYS)
  if (first === undefined) return null
  return { op: 'purge', key: first, value: '', keys: rest }
}

/**
 * The key/value state machine: Redis's string, key and hash commands over a KvState (see
 * kv-ops.ts). Keys and values are binary strings (one character per byte, "latin1"), so any bytes
 * round-trip. Its reads are served as linearizable reads, never logged.
 */
export function kvMachine(options: KvMachineOptions): StateMachine<KvState, KvCommand, KvResult> {
  return {
    name: 'kv',
    initial: () => new KvState(),
    isReadOnly: isReadCommand,
    commandCodec: kvCommandCodec,
    resultCodec: kvResultCodec,
    stateCodec: kvStateCodec,
    encodeIncrementally: (state) => new KvStateEncoding(state),
    apply: (state, command, context) => ({ state, result: applyKv(state, command, context, options) }),
    nextDueMs: (state) => state.nextDeadline(),
    dueCommand: purgeCommand,
  }
}
