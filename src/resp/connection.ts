// One client connection: parses its bytes, runs its commands strictly one after another (the next
// starts when the previous reply is written), so replies come back in request order and a client's
// writes reach the backend in the order it sent them. Other connections run independently.

import type net from 'node:net'
import type { Clock, TimerHandle } from '../sim/clock.js'
import { InvariantError, assert } from '../util/assert.js'
import type { Logger } from '../util/logger.js'
import type { KvBackend } from './backend.js'
import { type ClientState, type CommandTable, type ServerFacts, argText } from './commands.js'
import { RespError, type RespProtocolError } from './errors.js'
import type { RespParser } from './parser.js'
import { type RespReply, errorReply } from './reply.js'
import { encodeReply } from './writer.js'

export interface RespConnectionOptions {
  readonly socket: net.Socket
  readonly client: ClientState
  readonly parser: RespParser
  readonly commands: CommandTable
  readonly backend: KvBackend
  readonly server: ServerFacts
  readonly logger: Logger
  readonly clock: Clock
  /** Commands parsed but not yet run; at this many the connection stops reading until it catches up. */
  readonly maxPipelinedCommands: number
  /** After QUIT or a protocol error: how long to wait for the client to close before closing hard. */
  readonly closeGraceMs: number
}

/** Consumed queue items are dropped once there are this many and they are at least half the queue. */
const COMPACT_AFTER_ITEMS = 1024

type Pending = { readonly kind: 'command'; readonly args: Buffer[] } | { readonly kind: 'protocol-error'; readonly error: RespProtocolError }

export class RespConnection {
  /** Pending items are queue[head..]; consumed ones are dropped in batches, not shifted one by one. */
  private queue: Pending[] = []
  private head = 0
  private running = false
  private closing = false
  private corked = false
  private graceTimer: TimerHandle | null = null
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>

  constructor(private readonly options: RespConnectionOptions) {
    const { socket } = options
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (error) => options.logger.info('client connection error', { client: options.client.id, reason: error.message }))
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        if (this.graceTimer !== null) options.clock.clearTimeout(this.graceTimer)
        this.queue = []
        this.head = 0
        resolve()
      }),
    )
  }

  private receive(chunk: Buffer): void {
    // After QUIT or a protocol error the client's further bytes are read and dropped, so that the
    // close is a clean FIN after the last reply rather than a reset that could discard it.
    if (this.closing) return
    const { commands, protocolError } = this.options.parser.push(chunk)
    for (const args of commands) this.queue.push({ kind: 'command', args })
    if (protocolError) this.queue.push({ kind: 'protocol-error', error: protocolError })
    else if (this.queue.length - this.head >= this.options.maxPipelinedCommands) this.options.socket.pause()
    void this.run()
  }

  private async run(): Promise<void> {
    if (this.running) return
    this.running = true
    const { socket } = this.options
    try {
      while (this.head < this.queue.length && !socket.destroyed && !this.closing) {
        const item = this.queue[this.head++]
        assert(item !== undefined, 'a pending item below the queue length')
        if (item.kind === 'protocol-error') {
          this.options.logger.warn('closing client connection after a protocol error', {
            client: this.options.client.id,
            remote: this.options.client.remoteAddress,
            offsetBytes: item.error.offsetBytes,
            reason: item.error.message,
          })
          this.write(errorReply('ERR', `Protocol error: ${item.error.message}`))
          this.closeAfterReplies()
          break
        }
        const { reply, closesConnection } = await this.execute(item.args)
        this.write(reply)
        if (closesConnection) {
          this.closeAfterReplies()
          break
        }
        this.dropConsumed()
        if (socket.writableNeedDrain) await writable(socket)
        if (socket.isPaused() && this.queue.length - this.head < this.options.maxPipelinedCommands) socket.resume()
      }
    } finally {
      this.running = false
    }
  }

  private async execute(args: Buffer[]): Promise<{ reply: RespReply; closesConnection: boolean }> {
    const { commands, backend, client, server } = this.options
    try {
      const spec = commands.resolve(args)
      const reply = await spec.run(args, { backend, client, server, commands })
      return { reply, closesConnection: spec.closesConnection === true }
    } catch (error) {
      if (error instanceof InvariantError) throw error
      if (error instanceof RespError) return { reply: errorReply(error.respPrefix, error.message), closesConnection: false }
      const reason = error instanceof Error ? error.message : String(error)
      this.options.logger.warn('command failed', { client: client.id, command: argText(args, 0), reason })
      return { reply: errorReply('ERR', reason), closesConnection: false }
    }
  }

  /** Writes are corked until the end of the tick, so replies to a pipelined batch leave in one segment. */
  private write(reply: RespReply): void {
    const { socket } = this.options
    if (socket.destroyed || !socket.writable) return
    if (!this.corked) {
      this.corked = true
      socket.cork()
      process.nextTick(() => {
        this.corked = false
        socket.uncork()
      })
    }
    socket.write(encodeReply(reply))
  }

  private closeAfterReplies(): void {
    const { socket, clock, closeGraceMs } = this.options
    this.closing = true
    this.queue = []
    this.head = 0
    socket.resume()
    socket.end()
    this.graceTimer = clock.setTimeout(() => socket.destroy(), closeGraceMs)
  }

  private dropConsumed(): void {
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head >= COMPACT_AFTER_ITEMS && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }
}

/** Resolves when `socket` can take more output, or has closed (and never will). */
function writable(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })
}
