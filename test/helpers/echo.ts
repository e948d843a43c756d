// The echo service of proto/echo.proto as typed RPC methods, shared by the transport tests.

import { protoCodec } from '../../src/rpc/proto.js'
import { rpcMethod } from '../../src/rpc/service.js'

export interface EchoRequest {
  text: string
  data: Uint8Array
  /** Asks the server to wait this long before replying. */
  delayMs: number
}

export interface EchoReply {
  text: string
  data: Uint8Array
  servedBy: string
  sequence: number
}

export const echoRequestCodec = protoCodec<EchoRequest>('echo.proto', 'lograft.echo.EchoRequest')
export const echoReplyCodec = protoCodec<EchoReply>('echo.proto', 'lograft.echo.EchoReply')

/** Echo.Echo: replies with the request's text and data. */
export const echoMethod = rpcMethod('Echo', 'Echo', echoRequestCodec, echoReplyCodec)

export function echoRequest(fields: Partial<EchoRequest> = {}): EchoRequest {
  return { text: '', data: new Uint8Array(0), delayMs: 0, ...fields }
}

export function echoReply(fields: Partial<EchoReply> = {}): EchoReply {
  return { text: '', data: new Uint8Array(0), servedBy: '', sequence: 0, ...fields }
}
