// The outgoing side of the TCP transport: one connection to one peer, shared by many concurrent
// calls matched to replies by request id. A failed connect puts the link into backoff (doubling
// up to a maximum) during which calls fail fast as UNREACHABLE instead of piling up.

import net from 'node:net'
import type { Clock, TimerHandle } from '../sim/clock.js'
import type { Logger } from '../util/logger.js'
import { writeCoalesced } from './coalesced-write.js'
import { RpcError, parseRpcErrorCode } from './errors.js'
import { type Frame, FrameKind, frameCodec } from './frame.js'
import { FrameDecoder, FrameTooLargeError, lengthPrefixed } from './framing.js'

export interface PeerAddress {
  host: string
  port: number
  /** A Unix domain socket to use instead of host and port (written "unix:PATH"). */
  path?: string
}

/** "host:port", or "unix:PATH" for a Unix domain socket. */
export function formatAddress(address: PeerAddress): string {
  return address.path === undefined ? `${address.host}:${address.port}` : `unix:${address.path}`
}

export interface PeerLinkOptions {
  peer: string
  address: PeerAddress
  clock: Clock
  logger: Logger
  maxFrameBytes: number
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
        call.reject(this.error('UNREACHABLE', `connection failed; retrying in ${retryInMs}ms`, call.method))
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
    const socket = path === undefined ? net.connect({ host, port }) : net.connect({ path })
    this.socket = socket
    socket.setNoDelay(true)
    const decoder = new FrameDecoder(this.options.maxFrameBytes)
    let connected = false
    const connectTimer = this.options.clock.setTimeout(() => {
      if (!connected) socket.destroy(new Error(`connect timed out after ${this.options.connectTimeoutMs}ms`))
    }, this.options.connectTimeoutMs)

    socket.on('connect', () => {
      connected = true
      this.options.clock.clearTimeout(connectTimer)
      if (this.state !== 'connecting' || this.socket !== socket) return
      this.state = 'open'
      this.backoffMs = this.options.backoffInitialMs
      for (const call of this.waiting.splice(0)) this.write(call)
    })
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const body of decoder.push(chunk)) this.onReplyFrame(frameCodec.decode(body))
      } catch (error) {
        const reason = error instanceof FrameTooLargeError ? error.message : `undecodable frame: ${(error as Error).message}`
        this.options.logger.error('closing connection after a bad frame from peer', { peer: this.options.peer, reason })
        socket.destroy()
      }
    })
    socket.on('error', (error) => {
      if (this.state !== 'closed' && connected) {
        this.options.logger.warn('connection to peer failed', { peer: this.options.peer, reason: error.message })
      }
    })
    socket.on('close', () => {
      this.options.clock.clearTimeout(connectTimer)
      if (this.socket !== socket || this.state === 'closed') return
      this.socket = null
      this.failAll(
        connected
          ? this.error('CONNECTION_LOST', 'connection closed with the call in flight')
          : this.error('UNREACHABLE', `cannot connect to ${formatAddress(this.options.address)}`),
      )
      if (connected) {
        this.state = 'idle'
      } else {
        this.enterBackoff()
      }
    })
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
  return lengthPrefixed(
    frameCodec.encode({ kind: FrameKind.Request, id, method, payload, errorCode: '', errorMessage: '', from }),
  )
}
