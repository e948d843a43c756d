// The RESP endpoint: a TCP server that speaks enough of the Redis protocol for redis-cli,
// redis-benchmark and client libraries, serving data commands from an injected KvBackend.

import net from 'node:net'
import { type Clock, systemClock } from '../sim/clock.js'
import type { Logger } from '../util/logger.js'
import type { KvBackend } from './backend.js'
import { type ClientState, CommandTable, type RespLimits, type ServerFacts } from './commands.js'
import { connectionCommands } from './connection-commands.js'
import { RespConnection } from './connection.js'
import { kvCommands } from './kv-commands.js'
import { DEFAULT_RESP_PARSER_OPTIONS, RespParser, type RespParserOptions } from './parser.js'
import { serverCommands } from './server-commands.js'
import { errorReply } from './reply.js'
import { encodeReply } from './writer.js'

export interface RespServerOptions extends Partial<RespParserOptions> {
  host: string
  /** 0 picks a free port; listen() resolves with the one chosen. */
  port: number
  backend: KvBackend
  logger: Logger
  /** Connections served at once; more are told `-ERR max number of clients reached` and closed. Default 10000. */
  maxClients?: number
  /** Largest value SET or APPEND accept; larger ones are refused before the backend. Default 64 MiB. */
  maxValueBytes?: number
  /** Largest key accepted by any data command. Default 64 KiB. */
  maxKeyBytes?: number
  /** Per connection: parsed commands waiting to run before the server stops reading from it. Default 1024. */
  maxPipelinedCommands?: number
  /** After QUIT or a protocol error: how long the client has to close before the server closes hard. Default 1000 ms. */
  closeGraceMs?: number
  /** Extra fields for INFO's Server section, e.g. `{ lograft_node: 'n1' }`. */
  info?: Readonly<Record<string, string | number>>
  clock?: Clock
}

const DEFAULT_MAX_CLIENTS = 10_000
const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024
const DEFAULT_MAX_KEY_BYTES = 64 * 1024
const DEFAULT_MAX_PIPELINED_COMMANDS = 1024
const DEFAULT_CLOSE_GRACE_MS = 1000

export class RespServer {
  private readonly server: net.Server
  private readonly connections = new Set<RespConnection>()
  private readonly sockets = new Set<net.Socket>()
  private readonly commands = new CommandTable([...connectionCommands, ...serverCommands, ...kvCommands])
  private readonly parserOptions: RespParserOptions
  private readonly facts: ServerFacts
  private readonly clock: Clock
  private nextClientId = 1
  /** The port asked for until listen() binds, then the port bound. */
  private port: number

  constructor(private readonly options: RespServerOptions) {
    this.clock = options.clock ?? systemClock
    this.port = options.port
    this.parserOptions = {
      maxBulkBytes: options.maxBulkBytes ?? DEFAULT_RESP_PARSER_OPTIONS.maxBulkBytes,
      maxArrayElements: options.maxArrayElements ?? DEFAULT_RESP_PARSER_OPTIONS.maxArrayElements,
      maxInlineBytes: options.maxInlineBytes ?? DEFAULT_RESP_PARSER_OPTIONS.maxInlineBytes,
      maxCommandBytes: options.maxCommandBytes ?? DEFAULT_RESP_PARSER_OPTIONS.maxCommandBytes,
    }
    const limits: RespLimits = {
      maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
      maxKeyBytes: options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES,
      maxClients: options.maxClients ?? DEFAULT_MAX_CLIENTS,
      maxBulkBytes: this.parserOptions.maxBulkBytes,
    }
    this.facts = {
      tcpPort: () => this.port,
      startedAtMs: this.clock.now(),
      limits,
      infoFields: options.info ?? {},
      connectedClients: () => this.connections.size,
      nowMs: () => this.clock.now(),
    }
    this.server = net.createServer((socket) => this.accept(socket))
  }

  /** Resolves with the bound address, or rejects with a message naming the address (e.g. port in use). */
  listen(): Promise<net.AddressInfo> {
    const { host, port } = this.options
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        const reason = error.code === 'EADDRINUSE' ? 'the port is already in use' : error.message
        reject(new Error(`RESP server cannot listen on ${host}:${port}: ${reason}`))
      }
      this.server.once('error', onError)
      this.server.listen(port, host, () => {
        this.server.off('error', onError)
        const address = this.server.address() as net.AddressInfo
        this.port = address.port
        this.options.logger.info('RESP server listening', { host: address.address, port: address.port })
        resolve(address)
      })
    })
  }

  /** Stops accepting, drops every connection (in-flight commands' replies are lost) and resolves once closed. */
  async close(): Promise<void> {
    const closing = this.server.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve()
    for (const socket of this.sockets) socket.destroy()
    await Promise.all([closing, ...[...this.connections].map((connection) => connection.closed)])
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.setNoDelay(true)
    const { maxClients } = this.facts.limits
    if (this.connections.size >= maxClients) {
      this.options.logger.warn('refusing a client: too many connections', { remote: socket.remoteAddress, maxClients })
      // The reset this may provoke is expected; the client has been told why.
      socket.on('error', () => {})
      socket.end(encodeReply(errorReply('ERR', 'max number of clients reached')))
      return
    }
    const client: ClientState = {
      id: this.nextClientId++,
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      localAddress: `${socket.localAddress}:${socket.localPort}`,
      name: null,
      libName: null,
      libVersion: null,
    }
    const connection = new RespConnection({
      socket,
      client,
      parser: new RespParser(this.parserOptions),
      commands: this.commands,
      backend: this.options.backend,
      server: this.facts,
      logger: this.options.logger,
      clock: this.clock,
      maxPipelinedCommands: this.options.maxPipelinedCommands ?? DEFAULT_MAX_PIPELINED_COMMANDS,
      closeGraceMs: this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS,
    })
    this.connections.add(connection)
    void connection.closed.then(() => this.connections.delete(connection))
  }
}
