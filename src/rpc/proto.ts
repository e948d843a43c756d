// Loads the .proto definitions in the package's proto/ folder and gives typed codecs for their
// messages. TypeScript interfaces for each message live beside the code that uses them.

import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { RpcError } from './errors.js'

export interface MessageCodec<T> {
  readonly typeName: string
  encode(message: T): Uint8Array
  /** Throws RpcError BAD_MESSAGE on bytes that are not a valid message. */
  decode(bytes: Uint8Array): T
}

// From dist/src/rpc/ (where this module runs) up to the package root.
const protoDirectory = fileURLToPath(new URL('../../../proto/', import.meta.url))
const roots = new Map<string, protobuf.Root>()

export function loadProto(fileName: string): protobuf.Root {
  let root = roots.get(fileName)
  if (!root) {
    root = protobuf.loadSync(`${protoDirectory}${fileName}`)
    roots.set(fileName, root)
  }
  return root
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: true, arrays: true }

/** A codec for `typeName` in `fileName`; 64-bit integers decode to numbers. */
export function protoCodec<T extends object>(fileName: string, typeName: string): MessageCodec<T> {
  const type = loadProto(fileName).lookupType(typeName)
  return {
    typeName,
    encode: (message) => type.encode(message).finish(),
    decode: (bytes) => {
      try {
        return type.toObject(type.decode(bytes), toObjectOptions) as T
      } catch (error) {
        throw new RpcError('BAD_MESSAGE', `cannot decode ${typeName}: ${(error as Error).message}`)
      }
    },
  }
}
