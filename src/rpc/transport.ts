// The Transport seam: one interface for every service's RPCs, implemented by the simulated
// network (tests) and by TCP (deployment). Requests and replies are encoded protobuf messages.

/** What a handler knows about the call it serves. */
export interface CallContext {
  /**
   * The calling node's id. For a peer it is authenticated by the handshake (and, under mutual TLS,
   * by its certificate); for a client it is the name the client gave.
   */
  readonly from: string
}

/** Who may call a registered service. */
export interface ServiceAccess {
  /**
   * Only members of the cluster (connections accepted as peers) may call this service; a client's
   * call is refused with NO_HANDLER before it reaches a handler. Raft's service is peer-only.
   */
  readonly peersOnly?: boolean
}

/**
 * Serves one method: the encoded request in, the encoded reply out. An RpcError it throws reaches
 * the caller with its code; any other error arrives as REMOTE, with its message.
 */
export type Handler = (request: Uint8Array, context: CallContext) => Promise<Uint8Array> | Uint8Array

/** Per-call options of Transport.call. */
export interface CallOptions {
  /** Reject with TIMEOUT if no reply arrives within this many ms. */
  timeoutMs?: number
}

/**
 * The Transport seam: one interface for every service's RPCs, implemented by TCP (TcpTransport,
 * for deployment) and by the simulated network (tests). Requests and replies are encoded
 * messages; rpcMethod, invoke and handler put typed methods on top.
 */
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
   * Sends now what calls and replies made so far in this turn of the event loop hold back to leave
   * together (TCP coalesces a turn's frames per connection); without it they leave at the turn's end.
   */
  flush?(): void
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
