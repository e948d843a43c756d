// The incoming side of the TCP transport: accepts connections, decodes request frames, runs
// handlers and writes replies on the same connection. A bad frame closes only its connection.

import net from 'node:net'
import type { Logger } from '../util/logger.js'
import { writeCoalesced } from './coalesced-write.js'
import { RpcError } from './errors.js'
import { type Frame, FrameKind, frameCodec } from './frame.js'
import { FrameDecoder, FrameTooLargeError, lengthPrefixed } from './framing.js'
import { type PeerAddress, formatAddress } from './tcp-peer-link.js'
import type { HandlerTable } from './transport.js'

export interface TcpServerOptions {
  handlers: HandlerTable
  logger: Logger
  maxFrameBytes: number
  /** Requests handled at once per connection; beyond it requests are refused as OVERLOADED. */
  maxConcurrentRequests: number
}

export class TcpServer {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()

  constructor(private readonly options: TcpServerOptions) {
    this.server = net.createServer((socket) => this.accept(socket))
  }

  /** Resolves with the bound address, or rejects (e.g. EADDRINUSE) with a clear message. */
  listen(address: PeerAddress): Promise<PeerAddress> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const inUse = address.path === undefined ? 'the port is already in use' : 'the socket file exists (remove it if nothing serves there)'
        const reason = error.code === 'EADDRINUSE' ? inUse : error.message
        reject(new RpcError('UNREACHABLE', `cannot listen on ${formatAddress(address)}: ${reason}`))
      }
      this.server.once('error', onError)
      const onListening = (): void => {
        this.server.off('error', onError)
        const bound = this.server.address()
        resolve(typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : address)
      }
      if (address.path === undefined) this.server.listen(address.port, address.host, onListening)
      else this.server.listen(address.path, onListening)
    })
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => {
      if (!this.server.listening) resolve()
      else this.server.close(() => resolve())
    })
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.setNoDelay(true)
    const remote = `${socket.remoteAddress}:${socket.remotePort}`
    const decoder = new FrameDecoder(this.options.maxFrameBytes)
    let active = 0
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[]
      try {
        frames = decoder.push(chunk).map((body) => frameCodec.decode(body))
      } catch (error) {
        const reason = error instanceof FrameTooLargeError ? error.message : `undecodable frame: ${(error as Error).message}`
        this.options.logger.error('closing connection after a bad frame', { remote, reason })
        socket.destroy()
        return
      }
      for (const frame of frames) {
        if (frame.kind !== FrameKind.Request) {
          this.options.logger.error('closing connection after a non-request frame', { remote, kind: frame.kind })
          socket.destroy()
          return
        }
        if (active >= this.options.maxConcurrentRequests) {
          this.reply(socket, errorFrame(frame.id, 'OVERLOADED', `more than ${this.options.maxConcurrentRequests} requests in flight`))
          continue
        }
        active++
        void this.serve(frame).then((reply) => {
          active--
          this.reply(socket, reply)
        })
      }
    })
    socket.on('error', (error) => this.options.logger.warn('connection error', { remote, reason: error.message }))
    socket.on('close', () => this.sockets.delete(socket))
  }

  private async serve(request: Frame): Promise<Frame> {
    const handle = this.options.handlers.lookup(request.method)
    if (!handle) return errorFrame(request.id, 'NO_HANDLER', `no handler for ${request.method}`)
    try {
      const payload = await handle(request.payload, { from: request.from })
      return { kind: FrameKind.Reply, id: request.id, method: '', payload, errorCode: '', errorMessage: '', from: '' }
    } catch (error) {
      if (error instanceof RpcError) return errorFrame(request.id, error.code, error.message)
      return errorFrame(request.id, 'REMOTE', error instanceof Error ? error.message : String(error))
    }
  }

  private reply(socket: net.Socket, frame: Frame): void {
    if (socket.destroyed) return
    let body = frameCodec.encode(frame)
    if (body.length > this.options.maxFrameBytes) {
      body = frameCodec.encode(
        errorFrame(frame.id, 'FRAME_TOO_LARGE', `reply of ${body.length} bytes exceeds the maximum frame of ${this.options.maxFrameBytes}`),
      )
    }
    writeCoalesced(socket, lengthPrefixed(body))
  }
}

function errorFrame(id: number, code: string, message: string): Frame {
  return { kind: FrameKind.Error, id, method: '', payload: new Uint8Array(0), errorCode: code, errorMessage: message, from: '' }
}
