// The key/value state machine: Get, Put, Append, Delete over a map. Keys and values are binary
// strings (one character per byte, "latin1"), so any bytes round-trip and V8 stores them compactly.

import { protoCodec } from '../rpc/proto.js'
import { BinaryReader } from '../base/bytes.js'
import { addInt64 } from '../base/int64.js'
import { KvStateEncoding } from './kv-state-encoding.js'
import type { Codec, StateMachine } from '../statemachine/types.js'
import type { KvCommand, KvOp, KvResult, KvState } from './types.js'

export type { KvCommand, KvOp, KvResult, KvState } from './types.js'

/** The flavour of {@link kvMachine}. */
export interface KvMachineOptions {
  /**
   * What Append reports besides the new length: the old value (the MIT Lab 2 flavour), or nothing
   * (so the session table does not keep a copy of every appended-to value).
   */
  appendReturnsOldValue: boolean
}

const OPS: readonly KvOp[] = ['get', 'put', 'append', 'delete', 'incr', 'getdel']
const CONDITIONS = [undefined, 'nx', 'xx'] as const

export interface WireCommand {
  op: number
  key: Uint8Array
  value: Uint8Array
  condition: number
  returnOld: boolean
}

export interface WireResult {
  value: Uint8Array
  found: boolean
  length: number
  error: string
}

const wireCommand = protoCodec<WireCommand>('kv.proto', 'lograft.kv.KvCommand')
const wireResult = protoCodec<WireResult>('kv.proto', 'lograft.kv.KvResult')

export function toBinaryString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}

export function fromBinaryString(text: string): Uint8Array {
  return Buffer.from(text, 'latin1')
}

export function commandToWire(command: KvCommand): WireCommand {
  return {
    op: OPS.indexOf(command.op),
    key: fromBinaryString(command.key),
    value: fromBinaryString(command.value),
    condition: CONDITIONS.indexOf(command.condition),
    returnOld: command.returnOld === true,
  }
}

export function commandFromWire(wire: WireCommand): KvCommand {
  const op = OPS[wire.op]
  if (!op) throw new Error(`unknown KV op ${wire.op}`)
  if (wire.condition < 0 || wire.condition >= CONDITIONS.length) throw new Error(`unknown KV condition ${wire.condition}`)
  const command: KvCommand = { op, key: toBinaryString(wire.key), value: toBinaryString(wire.value) }
  const condition = CONDITIONS[wire.condition]
  if (condition !== undefined) command.condition = condition
  if (wire.returnOld) command.returnOld = true
  return command
}

export function resultToWire(result: KvResult): WireResult {
  return { value: fromBinaryString(result.value), found: result.found, length: result.length, error: result.error ?? '' }
}

export function resultFromWire(wire: WireResult): KvResult {
  const result: KvResult = { value: toBinaryString(wire.value), found: wire.found, length: wire.length }
  if (wire.error) result.error = wire.error
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
  decode: (bytes) => {
    const reader = new BinaryReader(bytes)
    const state: KvState = new Map()
    const count = reader.uint32()
    for (let i = 0; i < count; i++) state.set(reader.latin1(), reader.latin1())
    return state
  },
}

/** Redis's words for a refused INCR. */
const INCR_REFUSALS = { 'not-an-integer': 'value is not an integer or out of range', overflow: 'increment or decrement would overflow' } as const

/** Whether a put with `condition` writes, given whether its key exists (SET NX writes a missing key, XX an existing one). */
export function putAllowed(condition: KvCommand['condition'], found: boolean): boolean {
  return condition === undefined || (condition === 'xx') === found
}

const EMPTY: KvResult = Object.freeze({ value: '', found: false, length: 0 })

/**
 * The key/value state machine: get, put, append and delete over a Map. Keys and values are binary
 * strings (one character per byte, "latin1"), so any bytes round-trip. Get is its only read-only
 * command: served as a linearizable read, never logged.
 */
export function kvMachine(options: KvMachineOptions): StateMachine<KvState, KvCommand, KvResult> {
  return {
    name: 'kv',
    initial: () => new Map(),
    isReadOnly: (command) => command.op === 'get',
    commandCodec: kvCommandCodec,
    resultCodec: kvResultCodec,
    stateCodec: kvStateCodec,
    encodeIncrementally: (state) => new KvStateEncoding(state),
    apply(state, command) {
      const old = state.get(command.key)
      const found = old !== undefined
      switch (command.op) {
        case 'get':
          return { state, result: found ? { value: old, found, length: old.length } : EMPTY }
        case 'put': {
          // found says whether the key existed, so the caller knows whether a conditional put ran.
          const allowed = putAllowed(command.condition, found)
          if (allowed) state.set(command.key, command.value)
          const length = allowed ? command.value.length : (old?.length ?? 0)
          return { state, result: { value: command.returnOld ? (old ?? '') : '', found, length } }
        }
        case 'getdel':
          state.delete(command.key)
          return { state, result: { value: old ?? '', found, length: 0 } }
        case 'append': {
          const updated = (old ?? '') + command.value
          state.set(command.key, updated)
          return { state, result: { value: options.appendReturnsOldValue ? (old ?? '') : '', found, length: updated.length } }
        }
        case 'delete':
          state.delete(command.key)
          return { state, result: { value: '', found, length: 0 } }
        case 'incr': {
          const next = addInt64(old ?? '0', command.value) // A missing key counts as 0.
          if (next === 'not-an-integer' || next === 'overflow')
            return { state, result: { value: '', found, length: old?.length ?? 0, error: INCR_REFUSALS[next] } }
          state.set(command.key, next)
          return { state, result: { value: next, found, length: next.length } }
        }
      }
    },
  }
}
