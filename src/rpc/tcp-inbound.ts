// One accepted connection of the TCP transport: the hello first (within a deadline, in a small
// frame), then requests served by the handler table, replies written on the same connection. A
// connection accepted as a peer calls as its authenticated node id; a client's calls to peer-only
// services are refused. A bad frame, a refused hello or an idle connection closes only itself.

import type net from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Clock, TimerHandle } from '../base/clock.js'
import type { Logger } from '../base/logger.js'
import { writeCoalesced } from './coalesced-write.js'
import { RpcError } from './errors.js'
import { type Frame, FrameKind, type Hello, controlFrame, frameCodec, helloCodec, helloReplyCodec } from './frame.js'
import { FrameDecoder, FrameTooLargeError, lengthPrefixed } from './framing.js'
import { type HandshakeRules, judgeHello } from './handshake.js'
import { verifiedPeerName } from './tls.js'
import type { HandlerTable } from './transport.js'

/** A hello is a few short strings; a first frame larger than this is not one. */
export const MAX_HELLO_FRAME_BYTES = 4096

/** After a refusal is written, how long the caller has to read it and close before it is cut off. */
const REFUSAL_GRACE_MS = 1000

export interface InboundOptions {
  readonly handlers: HandlerTable
  readonly rules: HandshakeRules
  readonly peers: PeerConnections
  readonly logger: Logger
  readonly clock: Clock
  readonly maxFrameBytes: number
  readonly maxConcurrentRequests: number
  /** The hello must arrive within this time of the connection (after TLS, if any). */
  readonly handshakeTimeoutMs: number
  /** A connection with no frame for this long is closed; 0: never. */
  readonly idleTimeoutMs: number
}

/**
 * The live connection of each peer, to refuse a second process claiming an id already connected.
 * A reconnect of the same process (same boot id), or a new process once the old connection has
 * been quiet for `quietMs`, replaces the old connection instead.
 */
export class PeerConnections {
  private readonly live = new Map<string, { bootId: string; connection: InboundConnection }>()

  constructor(
    private readonly clock: Clock,
    private readonly quietMs: number,
  ) {}

  /** Claims `nodeId` for `connection`; a reason if another live process holds it. */
  claim(nodeId: string, bootId: string, connection: InboundConnection): string | null {
    const held = this.live.get(nodeId)
    if (held && held.connection !== connection) {
      const quiet = this.clock.now() - held.connection.lastFrameAtMs >= this.quietMs
      if (held.bootId !== bootId && !quiet) return `another connection from ${nodeId} is live (is a second process running with id ${nodeId}?)`
      held.connection.close(held.bootId === bootId ? 'replaced by a reconnect of the same process' : `replaced by a new process claiming ${nodeId}`)
    }
    this.live.set(nodeId, { bootId, connection })
    return null
  }

  release(nodeId: string, connection: InboundConnection): void {
    if (this.live.get(nodeId)?.connection === connection) this.live.delete(nodeId)
  }
}

export class InboundConnection {
  private readonly decoder = new FrameDecoder(MAX_HELLO_FRAME_BYTES)
  private readonly remote: string
  /** Set once the hello is accepted: the caller's name and whether it is a peer. */
  private caller: { name: string; peer: boolean } | null = null
  private active = 0
  private handshakeTimer: TimerHandle | null
  private idleTimer: TimerHandle | null = null
  lastFrameAtMs: number

  constructor(
    private readonly socket: net.Socket,
    private readonly options: InboundOptions,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`
    this.lastFrameAtMs = options.clock.now()
    this.handshakeTimer = options.clock.setTimeout(() => this.close(`no hello within ${options.handshakeTimeoutMs}ms`), options.handshakeTimeoutMs)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (error) => options.logger.warn('connection error', { remote: this.remote, reason: error.message }))
    socket.on('close', () => {
      if (this.handshakeTimer !== null) options.clock.clearTimeout(this.handshakeTimer)
      if (this.idleTimer !== null) options.clock.clearTimeout(this.idleTimer)
      if (this.caller?.peer) options.peers.release(this.caller.name, this)
    })
  }

  /** Closes the connection, logging why. */
  close(reason: string): void {
    if (this.socket.destroyed) return
    this.options.logger.warn('closing connection', { remote: this.remote, caller: this.caller?.name, reason })
    this.socket.destroy()
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[]
    try {
      frames = this.decoder.push(chunk).map((body) => frameCodec.decode(body))
    } catch (error) {
      const reason = error instanceof FrameTooLargeError ? error.message : `undecodable frame: ${(error as Error).message}`
      this.options.logger.error('closing connection after a bad frame', { remote: this.remote, caller: this.caller?.name, reason })
      this.socket.destroy()
      return
    }
    if (frames.length > 0) this.lastFrameAtMs = this.options.clock.now()
    for (const frame of frames) {
      if (this.socket.destroyed) return
      if (this.caller === null) this.onHello(frame)
      else this.onRequest(frame, this.caller)
    }
  }

  private onHello(frame: Frame): void {
    if (frame.kind !== FrameKind.Hello) {
      this.refuse(null, `the first frame must be a hello, not kind ${frame.kind}`)
      return
    }
    let hello: Hello
    try {
      hello = helloCodec.decode(frame.payload)
    } catch (error) {
      this.refuse(null, (error as Error).message)
      return
    }
    const certificateName = this.options.rules.tls ? verifiedPeerName(this.socket as TLSSocket) : null
    const verdict = judgeHello(this.options.rules, hello, certificateName)
    if (!verdict.accepted) {
      this.refuse(hello, verdict.reason)
      return
    }
    if (verdict.peer) {
      const conflict = this.options.peers.claim(hello.nodeId, hello.bootId, this)
      if (conflict !== null) {
        this.refuse(hello, conflict)
        return
      }
    }
    this.caller = { name: hello.nodeId, peer: verdict.peer }
    if (this.handshakeTimer !== null) this.options.clock.clearTimeout(this.handshakeTimer)
    this.handshakeTimer = null
    this.decoder.limit(this.options.maxFrameBytes)
    this.sendHelloReply(true, '')
    this.armIdleTimer(this.options.idleTimeoutMs)
  }

  private refuse(hello: Hello | null, reason: string): void {
    this.options.logger.warn('refused a connection', {
      remote: this.remote,
      claims: hello?.nodeId,
      cluster: hello?.clusterId,
      peer: hello?.asPeer,
      reason,
    })
    this.sendHelloReply(false, reason)
    this.socket.end()
    // A caller that does not close after the refusal is cut off.
    this.options.clock.setTimeout(() => this.socket.destroy(), REFUSAL_GRACE_MS)
  }

  private sendHelloReply(accepted: boolean, reason: string): void {
    const { rules } = this.options
    const reply = helloReplyCodec.encode({
      accepted,
      reason,
      clusterId: rules.cluster?.clusterId ?? '',
      nodeId: rules.self,
      incarnation: rules.cluster?.incarnation ?? '',
    })
    writeCoalesced(this.socket, lengthPrefixed(frameCodec.encode(controlFrame(FrameKind.HelloReply, reply))))
  }

  private onRequest(frame: Frame, caller: { name: string; peer: boolean }): void {
    if (frame.kind !== FrameKind.Request) {
      this.options.logger.error('closing connection after a non-request frame', { remote: this.remote, caller: caller.name, kind: frame.kind })
      this.socket.destroy()
      return
    }
    if (this.active >= this.options.maxConcurrentRequests) {
      this.reply(errorFrame(frame.id, 'OVERLOADED', `more than ${this.options.maxConcurrentRequests} requests in flight`))
      return
    }
    this.active++
    void this.serve(frame, caller).then((reply) => {
      this.active--
      this.reply(reply)
    })
  }

  private async serve(request: Frame, caller: { name: string; peer: boolean }): Promise<Frame> {
    const handle = this.options.handlers.lookup(request.method, caller.peer)
    if (!handle) return errorFrame(request.id, 'NO_HANDLER', `no handler for ${request.method}${caller.peer ? '' : ' for clients'}`)
    try {
      const payload = await handle(request.payload, { from: caller.name })
      return { kind: FrameKind.Reply, id: request.id, method: '', payload, errorCode: '', errorMessage: '', from: '' }
    } catch (error) {
      if (error instanceof RpcError) return errorFrame(request.id, error.code, error.message)
      return errorFrame(request.id, 'REMOTE', error instanceof Error ? error.message : String(error))
    }
  }

  private reply(frame: Frame): void {
    if (this.socket.destroyed) return
    let body = frameCodec.encode(frame)
    if (body.length > this.options.maxFrameBytes) {
      body = frameCodec.encode(
        errorFrame(frame.id, 'FRAME_TOO_LARGE', `reply of ${body.length} bytes exceeds the maximum frame of ${this.options.maxFrameBytes}`),
      )
    }
    writeCoalesced(this.socket, lengthPrefixed(body))
  }

  /** One timer per connection, re-armed for what is left rather than reset on every frame. */
  private armIdleTimer(delayMs: number): void {
    const { idleTimeoutMs, clock } = this.options
    if (idleTimeoutMs <= 0) return
    this.idleTimer = clock.setTimeout(() => {
      const quietMs = clock.now() - this.lastFrameAtMs
      if (quietMs >= idleTimeoutMs && this.active === 0) this.close(`idle for ${idleTimeoutMs}ms`)
      else this.armIdleTimer(Math.max(1, idleTimeoutMs - quietMs))
    }, delayMs)
  }
}

function errorFrame(id: number, code: string, message: string): Frame {
  return { kind: FrameKind.Error, id, method: '', payload: new Uint8Array(0), errorCode: code, errorMessage: message, from: '' }
}
