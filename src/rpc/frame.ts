// The TCP transport's frame message (proto/rpc.proto) and its codec.

import { protoCodec } from './proto.js'

export enum FrameKind {
  Request = 0,
  Reply = 1,
  Error = 2,
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

export const frameCodec = protoCodec<Frame>('rpc.proto', 'lograft.rpc.Frame')
