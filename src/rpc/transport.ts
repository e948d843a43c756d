// The Transport seam: one interface for every service's RPCs, implemented by the simulated
// network (tests) and by TCP (deployment). Requests and replies are encoded protobuf messages.

export interface CallContext {
  /** The calling node's id. */
  readonly from: string
}

export type Handler = (request: Uint8Array, context: CallContext) => Promise<Uint8Array> | Uint8Array

export interface CallOptions {
  /** Reject with TIMEOUT if no reply arrives within this many ms. */
  timeoutMs?: number
}

export interface Transport {
  /** This node's id, sent to servers as CallContext.from. */
  readonly self: string
  /** Serves `Service.Method` for each method in `handlers`. */
  register(service: string, handlers: Readonly<Record<string, Handler>>): void
  /**
   * Calls `method` ("Service.Method") on `peer`; resolves with the encoded reply or rejects with an
   * RpcError. Never hangs forever: the call times out or fails.
   */
  call(peer: string, method: string, request: Uint8Array, options?: CallOptions): Promise<Uint8Array>
  /** Stops serving and fails calls in flight with CLOSED. */
  close(): Promise<void>
  /**
   * The handler that serves `method` in this very process when `peer` is this node, if the
   * transport allows calls to skip the wire (TCP does; the simulated network does not, so every
   * simulated call goes through its fault model).
   */
  localHandler?(peer: string, method: string): Handler | undefined
}

/** Handlers keyed by "Service.Method", shared by both transports' server sides. */
export class HandlerTable {
  private readonly handlers = new Map<string, Handler>()

  register(service: string, handlers: Readonly<Record<string, Handler>>): void {
    for (const [name, handler] of Object.entries(handlers)) this.handlers.set(`${service}.${name}`, handler)
  }

  lookup(method: string): Handler | undefined {
    return this.handlers.get(method)
  }
}
