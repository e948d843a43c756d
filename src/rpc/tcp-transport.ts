// The Transport for real deployments: length-prefixed protobuf frames over TCP or mutual TLS,
// a handshake on every connection (cluster id and node id first; nothing reaches a handler before
// it), many concurrent calls per connection, reconnect with backoff, per-call timeouts, and limits
// on frame size, connections, handshake time and idle time.

import { randomUUID } from 'node:crypto'
import { type Clock, systemClock } from '../base/clock.js'
import { type Logger, stderrLogger } from '../base/logger.js'
import { flushCoalesced } from './coalesced-write.js'
import { RpcError } from './errors.js'
import type { ClusterIdentity, HandshakeRules, IncarnationCheck } from './handshake.js'
import { type PeerAddress, formatAddress, parseAddress } from './address.js'
import { PeerLink, requestFrame } from './tcp-peer-link.js'
import { TcpServer } from './tcp-server.js'
import type { TlsConfig } from './tls.js'
import { type CallOptions, type Handler, HandlerTable, type ServiceAccess, type Transport } from './transport.js'

/** The default largest frame: a few MiB. Snapshots and shard moves travel in chunks well below it. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024

/** How {@link TcpTransport.start} sets up a transport; times in ms. */
export interface TcpTransportOptions {
  /** This node's id. */
  self: string
  /** Where to accept calls (an address or a Unix socket path); omit for a client-only transport. Port 0 picks a free port. */
  listen?: PeerAddress
  /** Peer ids to "host:port". A call may also name a "host:port" directly. */
  peers?: Readonly<Record<string, string>>
  /**
   * Membership of a cluster: given on the cluster's members, which then call the ids in `peers` as
   * peers and accept those ids as peers. Absent on clients and standalone servers (MapReduce).
   */
  cluster?: ClusterIdentity
  /** Refuses a peer whose data directory is not the one this node knew (it lost its state). */
  checkIncarnation?: IncarnationCheck
  /** Told when a peer refuses this node's connection, with the peer's reason (e.g. it is no longer a member). */
  onPeerRefusal?: (peer: string, reason: string) => void
  /** Mutual TLS on every connection, both ways. Absent: plain TCP. */
  tls?: TlsConfig
  clock?: Clock
  logger?: Logger
  /** Largest frame sent or accepted. Default DEFAULT_MAX_FRAME_BYTES (4 MiB). */
  maxFrameBytes?: number
  /** Timeout for calls that set none. Default 5000 ms. */
  callTimeoutMs?: number
  /** For the connect, TLS and the hello's answer together. Default 2000 ms. */
  connectTimeoutMs?: number
  /** The first wait before redialing a peer whose connect or hello failed; doubled on each failure. Default 50 ms. */
  backoffInitialMs?: number
  /** The longest wait between redials of a peer. Default 2000 ms. */
  backoffMaxMs?: number
  /** Per incoming connection. Default 4096. */
  maxConcurrentRequests?: number
  /** Incoming connections open at once. Default 1024. */
  maxConnections?: number
  /** An incoming connection must complete TLS and its hello within this time. Default 5000 ms. */
  handshakeTimeoutMs?: number
  /** An incoming connection with no request for this long is closed (the caller reconnects when it needs to). Default 300000 ms; 0: never. */
  idleTimeoutMs?: number
  /** A new process claiming a peer's id replaces that peer's connection only once it has been quiet this long. Default 10000 ms. */
  peerQuietMs?: number
}

/**
 * The Transport for real deployments: length-prefixed protobuf frames over TCP or mutual TLS, a
 * handshake on every connection (cluster id and node id first; nothing reaches a handler before
 * it), many concurrent calls per connection, reconnect with backoff (calls fail fast as
 * UNREACHABLE meanwhile), per-call timeouts, and limits on frame size, connections, handshake
 * time and idle time. Start one with {@link TcpTransport.start}.
 */
export class TcpTransport implements Transport {
  readonly self: string
  private readonly handlers = new HandlerTable()
  private readonly server: TcpServer
  private readonly links = new Map<string, PeerLink>()
  private readonly peers = new Map<string, PeerAddress>()
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly maxFrameBytes: number
  private readonly callTimeoutMs: number
  private readonly connectTimeoutMs: number
  private readonly backoffInitialMs: number
  private readonly backoffMaxMs: number
  private readonly rules: HandshakeRules
  private readonly tls: TlsConfig | null
  private readonly onPeerRefusal: (peer: string, reason: string) => void
  /** Tells this process's connections from those of another process with the same id. */
  private readonly bootId = randomUUID()
  private boundAddress: PeerAddress | null = null
  private nextRequestId = 1
  private closed = false

  private constructor(options: TcpTransportOptions) {
    this.self = options.self
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? stderrLogger
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
    this.callTimeoutMs = options.callTimeoutMs ?? 5000
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000
    this.backoffInitialMs = options.backoffInitialMs ?? 50
    this.backoffMaxMs = options.backoffMaxMs ?? 2000
    for (const [id, address] of Object.entries(options.peers ?? {})) this.peers.set(id, parseAddress(address))
    this.tls = options.tls ?? null
    this.onPeerRefusal = options.onPeerRefusal ?? (() => {})
    this.rules = {
      self: options.self,
      cluster: options.cluster ?? null,
      isMember: (id) => id !== options.self && this.peers.has(id),
      checkIncarnation: options.checkIncarnation ?? null,
      tls: this.tls !== null,
    }
    this.server = new TcpServer({
      handlers: this.handlers,
      rules: this.rules,
      logger: this.logger,
      clock: this.clock,
      tls: this.tls,
      maxFrameBytes: this.maxFrameBytes,
      maxConcurrentRequests: options.maxConcurrentRequests ?? 4096,
      maxConnections: options.maxConnections ?? 1024,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5000,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      peerQuietMs: options.peerQuietMs ?? 10_000,
    })
  }

  /** Creates the transport and, if `listen` is given, starts accepting calls. */
  static async start(options: TcpTransportOptions): Promise<TcpTransport> {
    const transport = new TcpTransport(options)
    if (options.listen) await transport.listen(options.listen)
    return transport
  }

  /** Starts accepting calls on `address` (for a transport started without `listen`). */
  async listen(address: PeerAddress): Promise<PeerAddress> {
    if (this.boundAddress) throw new RpcError('UNREACHABLE', `already listening on ${formatAddress(this.boundAddress)}`)
    this.boundAddress = await this.server.listen(address)
    return this.boundAddress
  }

  /** The address this transport listens on, if any. */
  get address(): PeerAddress | null {
    return this.boundAddress
  }

  /**
   * Sets the address ("host:port" or "unix:PATH") of peer `id`. An open connection to it is closed,
   * failing its calls in flight with CLOSED; the next call dials the new address.
   */
  setPeer(id: string, address: string): void {
    this.peers.set(id, parseAddress(address))
    this.links.get(id)?.close()
    this.links.delete(id)
  }

  /**
   * Forgets a peer: it is no longer a member, so it is refused as one and no longer dialed. Calls
   * already in flight to it (a request forwarded to a leader that is leaving, say) still finish.
   */
  removePeer(id: string): void {
    this.peers.delete(id)
    this.links.get(id)?.retire()
    this.links.delete(id)
  }

  /** Makes the peer list exactly `peers` (id to "host:port"), touching only what changed. */
  syncPeers(peers: Readonly<Record<string, string>>): void {
    for (const id of [...this.peers.keys()]) if (!(id in peers)) this.removePeer(id)
    for (const [id, address] of Object.entries(peers)) {
      const known = this.peers.get(id)
      if (!known || formatAddress(known) !== formatAddress(parseAddress(address))) this.setPeer(id, address)
    }
  }

  register(service: string, handlers: Readonly<Record<string, Handler>>, access?: ServiceAccess): void {
    this.handlers.register(service, handlers, access)
  }

  call(peer: string, method: string, request: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new RpcError('CLOSED', 'transport closed', peer, method))
    if (peer === this.self && this.boundAddress) return this.callSelf(method, request)
    const link = this.linkTo(peer)
    if (!link) return Promise.reject(new RpcError('UNREACHABLE', `unknown peer "${peer}"`, peer, method))
    const id = this.nextRequestId++
    const frame = requestFrame(id, method, request, this.self)
    if (frame.length - 4 > this.maxFrameBytes) {
      return Promise.reject(
        new RpcError('FRAME_TOO_LARGE', `${method} request of ${frame.length - 4} bytes exceeds the maximum frame of ${this.maxFrameBytes}`, peer, method),
      )
    }
    const timeoutMs = options.timeoutMs ?? this.callTimeoutMs
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        link.forget(id)
        reject(new RpcError('TIMEOUT', `${method} to ${peer} timed out after ${timeoutMs}ms`, peer, method))
      }, timeoutMs)
      link.send({
        id,
        method,
        frame,
        resolve: (reply) => {
          this.clock.clearTimeout(timer)
          resolve(reply)
        },
        reject: (error) => {
          this.clock.clearTimeout(timer)
          reject(error)
        },
      })
    })
  }

  flush(): void {
    flushCoalesced()
  }

  localHandler(peer: string, method: string): Handler | undefined {
    return peer === this.self && this.boundAddress && !this.closed ? this.handlers.lookup(method, this.rules.cluster !== null) : undefined
  }

  /** A call to this node itself skips the socket: the handler runs in-process. */
  private async callSelf(method: string, request: Uint8Array): Promise<Uint8Array> {
    const handle = this.handlers.lookup(method, this.rules.cluster !== null)
    if (!handle) throw new RpcError('NO_HANDLER', `no handler for ${method}`, this.self, method)
    try {
      return await handle(request, { from: this.self })
    } catch (error) {
      if (error instanceof RpcError) throw error
      throw new RpcError('REMOTE', error instanceof Error ? error.message : String(error), this.self, method)
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const link of this.links.values()) link.close()
    this.links.clear()
    await this.server.close()
  }

  private linkTo(peer: string): PeerLink | undefined {
    let link = this.links.get(peer)
    if (link) return link
    let address = this.peers.get(peer)
    const expectedId = address ? peer : null
    if (!address) {
      try {
        address = parseAddress(peer)
      } catch {
        return undefined // Neither a known peer id nor an address: the caller gets UNREACHABLE.
      }
    }
    link = new PeerLink({
      peer,
      address,
      expectedId,
      // A member calls the other members as a peer; anyone else (other groups, tools) as a client.
      asPeer: expectedId !== null && this.rules.cluster !== null,
      rules: this.rules,
      bootId: this.bootId,
      tls: this.tls,
      onRefusal: (reason) => this.onPeerRefusal(peer, reason),
      clock: this.clock,
      logger: this.logger,
      maxFrameBytes: this.maxFrameBytes,
      connectTimeoutMs: this.connectTimeoutMs,
      backoffInitialMs: this.backoffInitialMs,
      backoffMaxMs: this.backoffMaxMs,
    })
    this.links.set(peer, link)
    return link
  }
}
