// Typed RPC methods on top of a byte-level Transport: a method pairs a name with its request and
// reply codecs, so callers and servers exchange messages, not bytes.

import { RpcError } from './errors.js'
import type { MessageCodec } from './proto.js'
import type { CallContext, CallOptions, Handler, Transport } from './transport.js'

type TypedServe = (request: unknown, context: CallContext) => Promise<unknown> | unknown

/** The typed function behind each Handler made by handler(), for in-process calls. */
const typedServes = new WeakMap<Handler, TypedServe>()

/**
 * A typed RPC method: its name with the codecs of its request and reply, shared by the caller
 * ({@link invoke}) and the server ({@link handler}). Make one with {@link rpcMethod}.
 */
export interface RpcMethod<Request, Reply> {
  readonly service: string
  /** The method's name within its service. */
  readonly name: string
  /** "Service.Method", as Transport.call expects. */
  readonly fullName: string
  readonly request: MessageCodec<Request>
  readonly reply: MessageCodec<Reply>
}

/** Defines the method `service`.`name`, whose request and reply are encoded with the given codecs. */
export function rpcMethod<Request, Reply>(
  service: string,
  name: string,
  request: MessageCodec<Request>,
  reply: MessageCodec<Reply>,
): RpcMethod<Request, Reply> {
  return { service, name, fullName: `${service}.${name}`, request, reply }
}

/**
 * Calls `method` on `peer` with a typed request and resolves with the decoded reply; rejects with
 * RpcError like Transport.call. A call the transport serves in this very process (TCP, to this
 * node itself) runs the typed handler directly, with no encoding; its errors still arrive as RpcError.
 */
export async function invoke<Request, Reply>(
  transport: Transport,
  peer: string,
  method: RpcMethod<Request, Reply>,
  request: Request,
  options?: CallOptions,
): Promise<Reply> {
  // A call a transport serves in this process skips encoding and decoding altogether.
  const local = transport.localHandler?.(peer, method.fullName)
  const serve = local ? typedServes.get(local) : undefined
  if (serve) {
    try {
      return (await serve(request, { from: transport.self })) as Reply
    } catch (error) {
      if (error instanceof RpcError) throw error
      throw new RpcError('REMOTE', error instanceof Error ? error.message : String(error), peer, method.fullName)
    }
  }
  const reply = await transport.call(peer, method.fullName, method.request.encode(request), options)
  return method.reply.decode(reply)
}

/** Wraps a typed handler as a byte-level Handler for Transport.register. */
export function handler<Request, Reply>(method: RpcMethod<Request, Reply>, serve: (request: Request, context: CallContext) => Promise<Reply> | Reply): Handler {
  const bytesHandler: Handler = async (bytes, context) => method.reply.encode(await serve(method.request.decode(bytes), context))
  typedServes.set(bytesHandler, serve as TypedServe)
  return bytesHandler
}
