// Loads the .proto definitions in the package's proto/ folder and gives typed codecs for their
// messages. TypeScript interfaces for each message live beside the code that uses them.

import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { RpcError } from './errors.js'

/** Encodes and decodes one message type, for RPC requests and replies or a machine's commands. */
export interface MessageCodec<T> {
  /** The protobuf message type's name. */
  readonly typeName: string
  /** The message's bytes on the wire. */
  encode(message: T): Uint8Array
  /** Throws RpcError BAD_MESSAGE on bytes that are not a valid message. */
  decode(bytes: Uint8Array): T
}

// From dist/src/rpc/ (where this module runs) up to the package root.
const protoDirectory = fileURLToPath(new URL('../../../proto/', import.meta.url))
const roots = new Map<string, protobuf.Root>()

/** A .proto file of lograft's own (proto/), loaded once. */
function loadProto(fileName: string): protobuf.Root {
  return loadProtoFile(`${protoDirectory}${fileName}`)
}

/** Any .proto file (and those it imports), by its path, loaded once. */
function loadProtoFile(path: string): protobuf.Root {
  let root = roots.get(path)
  if (!root) {
    root = protobuf.loadSync(path)
    roots.set(path, root)
  }
  return root
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: true, arrays: true }

/**
 * A codec for `typeName` in `fileName`; 64-bit integers decode to numbers, and a message holding
 * one beyond JavaScript's safe integers (2^53 - 1) is refused as BAD_MESSAGE: it would decode to a
 * number that is not the one sent, and no lograft counter (term, index, sequence) gets there.
 */
export function protoCodec<T extends object>(fileName: string, typeName: string): MessageCodec<T> {
  return codecOf<T>(loadProto(fileName).lookupType(typeName), typeName)
}

/**
 * A codec for the message `typeName` of your own .proto file at `path` (absolute, or relative to
 * the working directory): commands, results and states of your machine as protobuf messages.
 */
export function protoFileCodec<T extends object>(path: string, typeName: string): MessageCodec<T> {
  return codecOf<T>(loadProtoFile(resolve(path)).lookupType(typeName), typeName)
}

function codecOf<T extends object>(type: protobuf.Type, typeName: string): MessageCodec<T> {
  return {
    typeName,
    encode: (message) => type.encode(message).finish(),
    decode: (bytes) => {
      let decoded: protobuf.Message
      try {
        decoded = type.decode(bytes)
      } catch (error) {
        throw new RpcError('BAD_MESSAGE', `cannot decode ${typeName}: ${(error as Error).message}`)
      }
      const unsafe = unsafeInteger(type, decoded as unknown as Fields)
      if (unsafe !== null) throw new RpcError('BAD_MESSAGE', `cannot decode ${typeName}: ${unsafe}`)
      return type.toObject(decoded, toObjectOptions) as T
    },
  }
}

type Fields = Record<string, unknown>

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])

/** Per message type, the fields that may hold a 64-bit integer, directly or in nested messages. */
interface LongFieldPlan {
  readonly longs: readonly protobuf.Field[]
  readonly nested: ReadonlyArray<{ readonly field: protobuf.Field; readonly type: protobuf.Type }>
}

const plans = new WeakMap<protobuf.Type, LongFieldPlan>()

function planFor(type: protobuf.Type): LongFieldPlan {
  let plan = plans.get(type)
  if (!plan) {
    const longs = type.fieldsArray.filter((field) => LONG_TYPES.has(field.type))
    const nested = type.fieldsArray.flatMap((field) => (field.resolvedType instanceof protobuf.Type ? [{ field, type: field.resolvedType }] : []))
    plan = { longs, nested }
    plans.set(type, plan)
  }
  return plan
}

function isSafe(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value)
  const long = value as { toNumber?: () => number } | null
  return typeof long?.toNumber !== 'function' || Number.isSafeInteger(long.toNumber())
}

/** "field X is beyond..." for the first 64-bit integer in `message` that is not a safe integer, else null. */
function unsafeInteger(type: protobuf.Type, message: Fields): string | null {
  const plan = planFor(type)
  for (const field of plan.longs) {
    const value = message[field.name]
    const values = Array.isArray(value) ? value : [value]
    for (const item of values) {
      if (item !== undefined && item !== null && !isSafe(item)) return `field ${field.name} is ${String(item)}, beyond 2^53 - 1`
    }
  }
  for (const { field, type: nestedType } of plan.nested) {
    const value = message[field.name]
    const values = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]
    for (const item of values) {
      const found = unsafeInteger(nestedType, item as Fields)
      if (found !== null) return `${field.name}.${found}`
    }
  }
  return null
}
