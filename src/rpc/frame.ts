// The TCP transport's frame message (proto/rpc.proto) and its codec, and the handshake messages
// that open every connection.

import { protoCodec } from './proto.js'

export enum FrameKind {
  Request = 0,
  Reply = 1,
  Error = 2,
  Hello = 3,
  HelloReply = 4,
}

export interface Frame {
  kind: FrameKind
  id: number
  method: string
  payload: Uint8Array
  errorCode: string
  errorMessage: string
  from: string
}

export interface Hello {
  clusterId: string
  nodeId: string
  asPeer: boolean
  expectedId: string
  membersDigest: string
  incarnation: string
  bootId: string
}

export interface HelloReply {
  accepted: boolean
  reason: string
  clusterId: string
  nodeId: string
  incarnation: string
}

export const frameCodec = protoCodec<Frame>('rpc.proto', 'lograft.rpc.Frame')
export const helloCodec = protoCodec<Hello>('rpc.proto', 'lograft.rpc.Hello')
export const helloReplyCodec = protoCodec<HelloReply>('rpc.proto', 'lograft.rpc.HelloReply')

/** A control frame (HELLO or HELLO_REPLY) carrying `payload`. */
export function controlFrame(kind: FrameKind.Hello | FrameKind.HelloReply, payload: Uint8Array): Frame {
  return { kind, id: 0, method: '', payload, errorCode: '', errorMessage: '', from: '' }
}
