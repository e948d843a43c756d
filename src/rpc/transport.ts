// The Transport seam: one interface for every service's RPCs, implemented by the simulated
// network (tests) and by TCP (deployment). Requests and replies are encoded protobuf messages.

export interface CallContext {
  /**
   * The calling node's id. For a peer it is authenticated by the handshake (and, under mutual TLS,
   * by its certificate); for a client it is the name the client gave.
   */
  readonly from: string
}

export interface ServiceAccess {
  /**
   * Only members of the cluster (connections accepted as peers) may call this service; a client's
   * call is refused with NO_HANDLER before it reaches a handler. Raft's service is peer-only.
   */
  readonly peersOnly?: boolean
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
  register(service: string, handlers: Readonly<Record<string, Handler>>, access?: ServiceAccess): void
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
  private readonly peerOnlyMethods = new Set<string>()

  register(service: string, handlers: Readonly<Record<string, Handler>>, access: ServiceAccess = {}): void {
    for (const [name, handler] of Object.entries(handlers)) {
      const method = `${service}.${name}`
      this.handlers.set(method, handler)
      if (access.peersOnly) this.peerOnlyMethods.add(method)
      else this.peerOnlyMethods.delete(method)
    }
  }

  /** The handler for `method`, or undefined if there is none or the caller may not use it. */
  lookup(method: string, callerIsPeer = true): Handler | undefined {
    if (!callerIsPeer && this.peerOnlyMethods.has(method)) return undefined
    return this.handlers.get(method)
  }
}
