// The outgoing side of the TCP transport: one connection to one peer (plain TCP or mutual TLS),
// opened with a hello that the peer must accept before any call goes out, then shared by many
// concurrent calls matched to replies by request id. A failed connect or a refused hello puts the
// link into backoff (doubling up to a maximum) during which calls fail fast as UNREACHABLE.

import net from 'node:net'
import tls from 'node:tls'
import type { Clock, TimerHandle } from '../base/clock.js'
import type { Logger } from '../base/logger.js'
import { writeCoalesced } from './coalesced-write.js'
import { RpcError, parseRpcErrorCode } from './errors.js'
import { type Frame, FrameKind, controlFrame, frameCodec, helloCodec, helloReplyCodec } from './frame.js'
import { FrameDecoder, FrameTooLargeError, lengthPrefixed } from './framing.js'
import { type HandshakeRules, judgeHelloReply } from './handshake.js'
import { MAX_HELLO_FRAME_BYTES } from './tcp-inbound.js'
import { type TlsConfig, tlsClientOptions } from './tls.js'
import { type PeerAddress, formatAddress } from './address.js'

export interface PeerLinkOptions {
  peer: string
  address: PeerAddress
  /** The node id this link means to reach (checked against the answer); null when dialing an address. */
  expectedId: string | null
  /** Present ourselves as a member of the cluster (a peer), or as a client. */
  asPeer: boolean
  rules: HandshakeRules
  bootId: string
  tls: TlsConfig | null
  /** Told of every refusal (a hello refused, a TLS failure after connecting), repeated or not. */
  onRefusal: (reason: string) => void
  clock: Clock
  logger: Logger
  maxFrameBytes: number
  /** For the TCP (and TLS) connect and the hello's answer together. */
  connectTimeoutMs: number
  backoffInitialMs: number
  backoffMaxMs: number
}

interface PendingCall {
  readonly id: number
  readonly method: string
  readonly frame: Buffer
  readonly resolve: (reply: Uint8Array) => void
  readonly reject: (error: RpcError) => void
}

type LinkState = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed'

export class PeerLink {
  private state: LinkState = 'idle'
  private socket: net.Socket | null = null
  private readonly waiting: PendingCall[] = []
  private readonly inFlight = new Map<number, PendingCall>()
  private backoffMs: number
  private backoffTimer: TimerHandle | null = null
  private backoffUntilMs = 0
  /** Set by retire(): close as soon as nothing is in flight. */
  private retiring = false
  /** The last refusal logged, so a peer refusing again and again is logged once per reason. */
  private lastRefusal: string | null = null

  constructor(private readonly options: PeerLinkOptions) {
    this.backoffMs = options.backoffInitialMs
  }

  /** Sends the request frame and settles through `call` when its reply arrives or the link fails. */
  send(call: PendingCall): void {
    switch (this.state) {
      case 'closed':
        call.reject(this.error('CLOSED', 'transport closed'))
        return
      case 'backoff': {
        const retryInMs = Math.max(0, Math.round(this.backoffUntilMs - this.options.clock.now()))
        const why = this.lastRefusal === null ? '' : ` (${this.lastRefusal})`
        call.reject(this.error('UNREACHABLE', `connection failed${why}; retrying in ${retryInMs}ms`, call.method))
        return
      }
      case 'open':
        this.write(call)
        return
      case 'idle':
        this.waiting.push(call)
        this.connect()
        return
      case 'connecting':
        this.waiting.push(call)
        return
    }
  }

  /** Forgets a call that timed out, so a late reply is ignored. */
  forget(id: number): void {
    this.inFlight.delete(id)
    const index = this.waiting.findIndex((call) => call.id === id)
    if (index >= 0) this.waiting.splice(index, 1)
    if (this.retiring && this.inFlight.size === 0 && this.waiting.length === 0) this.close()
  }

  /** Closes once the calls in flight have settled (or at once, if none are): a peer that left. */
  retire(): void {
    this.retiring = true
    if (this.inFlight.size === 0 && this.waiting.length === 0) this.close()
  }

  close(): void {
    this.state = 'closed'
    if (this.backoffTimer !== null) this.options.clock.clearTimeout(this.backoffTimer)
    this.failAll(this.error('CLOSED', 'transport closed'))
    this.socket?.destroy()
    this.socket = null
  }

  private connect(): void {
    this.state = 'connecting'
    const { host, port, path } = this.options.address
    const endpoint = path === undefined ? { host, port } : { path }
    const { tls: tlsConfig } = this.options
    const socket = tlsConfig ? tls.connect({ ...endpoint, ...tlsClientOptions(tlsConfig, this.options.expectedId) }) : net.connect(endpoint)
    this.socket = socket
    socket.setNoDelay(true)
    const decoder = new FrameDecoder(MAX_HELLO_FRAME_BYTES)
    let connected = false
    let opened = false
    let refusal: string | null = null
    const connectTimer = this.options.clock.setTimeout(() => {
      if (!opened) socket.destroy(new Error(`no accepted hello within ${this.options.connectTimeoutMs}ms`))
    }, this.options.connectTimeoutMs)

    socket.on('connect', () => (connected = true))
    socket.on(tlsConfig ? 'secureConnect' : 'connect', () => {
      if (this.state !== 'connecting' || this.socket !== socket) return
      writeCoalesced(socket, lengthPrefixed(frameCodec.encode(controlFrame(FrameKind.Hello, this.hello()))))
    })
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const body of decoder.push(chunk)) {
          const frame = frameCodec.decode(body)
          if (opened) {
            this.onReplyFrame(frame)
            continue
          }
          refusal = this.judgeAnswer(frame)
          if (refusal !== null) {
            socket.destroy()
            return
          }
          opened = true
          this.options.clock.clearTimeout(connectTimer)
          decoder.limit(this.options.maxFrameBytes)
          this.onOpen()
        }
      } catch (error) {
        const reason = error instanceof FrameTooLargeError ? error.message : `undecodable frame: ${(error as Error).message}`
        this.options.logger.error('closing connection after a bad frame from peer', { peer: this.options.peer, reason })
        socket.destroy()
      }
    })
    socket.on('error', (error) => {
      if (this.state === 'closed') return
      if (opened) this.options.logger.warn('connection to peer failed', { peer: this.options.peer, reason: error.message })
      else if (connected) refusal ??= error.message
    })
    socket.on('close', () => {
      this.options.clock.clearTimeout(connectTimer)
      if (this.socket !== socket || this.state === 'closed') return
      this.socket = null
      if (refusal !== null) this.logRefusal(refusal)
      const failure = opened
        ? this.error('CONNECTION_LOST', 'connection closed with the call in flight')
        : this.error('UNREACHABLE', refusal ?? `cannot connect to ${formatAddress(this.options.address)}`)
      this.failAll(failure)
      if (opened) {
        this.state = 'idle'
      } else {
        this.enterBackoff()
      }
    })
  }

  private hello(): Uint8Array {
    const { rules, asPeer } = this.options
    // A client claims no cluster: a member of one cluster calls another cluster's servers (shard
    // groups calling each other and the controller) as a client.
    return helloCodec.encode({
      clusterId: asPeer ? (rules.cluster?.clusterId ?? '') : '',
      nodeId: rules.self,
      asPeer,
      expectedId: this.options.expectedId ?? '',
      membersDigest: asPeer ? (rules.cluster?.membersDigest ?? '') : '',
      incarnation: asPeer ? (rules.cluster?.incarnation ?? '') : '',
      bootId: this.options.bootId,
    })
  }

  /** Null if `frame` is an accepting answer to our hello that we accept in turn, else why not. */
  private judgeAnswer(frame: Frame): string | null {
    if (frame.kind !== FrameKind.HelloReply) return `the peer answered the hello with a frame of kind ${frame.kind}`
    return judgeHelloReply(this.options.rules, this.options.expectedId, this.options.asPeer, helloReplyCodec.decode(frame.payload))
  }

  private onOpen(): void {
    if (this.state !== 'connecting') return
    if (this.lastRefusal !== null) this.options.logger.info('connected to peer', { peer: this.options.peer })
    this.lastRefusal = null
    this.state = 'open'
    this.backoffMs = this.options.backoffInitialMs
    for (const call of this.waiting.splice(0)) this.write(call)
  }

  private logRefusal(reason: string): void {
    this.options.onRefusal(reason)
    if (reason === this.lastRefusal) return
    this.lastRefusal = reason
    this.options.logger.error('cannot use the connection to peer', { peer: this.options.peer, address: formatAddress(this.options.address), reason })
  }

  private enterBackoff(): void {
    this.state = 'backoff'
    const delayMs = this.backoffMs
    this.backoffUntilMs = this.options.clock.now() + delayMs
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.backoffMaxMs)
    this.backoffTimer = this.options.clock.setTimeout(() => {
      this.backoffTimer = null
      if (this.state === 'backoff') this.state = 'idle'
    }, delayMs)
  }

  private write(call: PendingCall): void {
    this.inFlight.set(call.id, call)
    if (this.socket) writeCoalesced(this.socket, call.frame)
  }

  private onReplyFrame(frame: Frame): void {
    const call = this.inFlight.get(frame.id)
    if (!call) return // Timed out already; the late reply has nobody to go to.
    this.inFlight.delete(frame.id)
    if (frame.kind === FrameKind.Reply) call.resolve(frame.payload)
    else call.reject(this.error(parseRpcErrorCode(frame.errorCode), frame.errorMessage, call.method))
    if (this.retiring && this.inFlight.size === 0) this.close()
  }

  private failAll(error: RpcError): void {
    for (const call of this.waiting.splice(0)) call.reject(this.withMethod(error, call.method))
    for (const call of this.inFlight.values()) call.reject(this.withMethod(error, call.method))
    this.inFlight.clear()
  }

  private withMethod(error: RpcError, method: string): RpcError {
    return new RpcError(error.code, `${method} to ${this.options.peer}: ${error.message}`, this.options.peer, method)
  }

  private error(code: RpcError['code'], message: string, method?: string): RpcError {
    return new RpcError(code, method ? `${method} to ${this.options.peer}: ${message}` : message, this.options.peer, method)
  }
}

/** Encodes a request frame with its length prefix. */
export function requestFrame(id: number, method: string, payload: Uint8Array, from: string): Buffer {
  return lengthPrefixed(frameCodec.encode({ kind: FrameKind.Request, id, method, payload, errorCode: '', errorMessage: '', from }))
}
