// The RESP endpoint: a TCP or TLS server that speaks enough of the Redis protocol for redis-cli,
// redis-benchmark and client libraries, serving data commands from an injected KvBackend, within
// the bounds of limits.ts, and behind a password (requirePass) if one is set.

import net from 'node:net'
import tls from 'node:tls'
import { BehaviorSubject, type Observable, Subject } from 'rxjs'
import { type Clock, systemClock } from '../base/clock.js'
import type { Logger } from '../base/logger.js'
import { authCommands } from './auth.js'
import { RequirePass } from './require-pass.js'
import type { KvBackend } from './backend.js'
import { type ClientState, CommandTable, type ServerFacts } from './commands.js'
import { connectionCommands } from './connection-commands.js'
import { RespConnection, type RespCommandEvent } from './connection.js'
import { RespOptionError } from './errors.js'
import { InputBudget } from './input-budget.js'
import { kvCommands } from './kv-commands.js'
import { transactionCommands } from './transaction-commands.js'
import { type RespLimitOptions, type RespLimits, parserLimits, resolveLimits } from './limits.js'
import { RespParser } from './parser.js'
import { errorReply } from './reply.js'
import { serverCommands } from './server-commands.js'
import { type RespTlsOptions, createTlsListener, tlsRefusal } from './tls-listener.js'
import { encodeReply } from './writer.js'

/** Where to listen, what to serve, and the bounds (see RespLimitOptions: every one has a default). */
export interface RespServerOptions extends RespLimitOptions {
  host: string
  /** 0 picks a free port; listen() resolves with the one chosen. */
  port: number
  backend: KvBackend
  logger: Logger
  /**
   * Clients must authenticate with this password (`AUTH password`, `AUTH default password` or
   * `HELLO 2 AUTH default password`) before any command but AUTH, HELLO and QUIT. Default: none.
   */
  requirePass?: string
  /** Serve TLS instead of plain TCP. Default: plain TCP. */
  tls?: RespTlsOptions
  /** Extra fields for INFO's Server section, e.g. `{ lograft_node: 'n1' }`. */
  info?: Readonly<Record<string, string | number>>
  clock?: Clock
}

/**
 * A RESP (Redis protocol) endpoint: a TCP or TLS server that speaks enough of the protocol for
 * redis-cli, redis-benchmark and client libraries, serving data commands from a {@link KvBackend},
 * within the bounds of {@link RespLimitOptions}, and behind a password (requirePass) if one is set.
 * Call listen() to start serving.
 */
export class RespServer {
  private readonly server: net.Server
  private readonly connections = new Set<RespConnection>()
  /** Every TCP socket accepted and not yet closed, TLS handshakes in progress included. */
  private readonly sockets = new Set<net.Socket>()
  private readonly commands = new CommandTable([...connectionCommands, ...authCommands, ...serverCommands, ...kvCommands, ...transactionCommands])
  private readonly limits: RespLimits
  private readonly inputBudget: InputBudget
  private readonly facts: ServerFacts
  private readonly clock: Clock
  private nextClientId = 1
  private readonly commandEvents = new Subject<RespCommandEvent>()
  private readonly connectionCount = new BehaviorSubject(0)
  /** Every command run, with its outcome and time (see RespCommandEvent). */
  readonly commands$: Observable<RespCommandEvent> = this.commandEvents.asObservable()
  /** How many clients are connected, now and as it changes. */
  readonly connections$: Observable<number> = this.connectionCount.asObservable()
  /** The port asked for until listen() binds, then the port bound. */
  private port: number

  /** Throws RespOptionError for an option out of range. */
  constructor(private readonly options: RespServerOptions) {
    this.clock = options.clock ?? systemClock
    this.port = options.port
    this.limits = resolveLimits(options)
    if (options.requirePass === '') throw new RespOptionError('requirePass', 'must not be empty (leave it out for no password)')
    this.inputBudget = new InputBudget(this.limits.maxTotalInputBytes)
    this.facts = {
      tcpPort: () => this.port,
      startedAtMs: this.clock.now(),
      limits: this.limits,
      requirePass: options.requirePass === undefined ? null : new RequirePass(options.requirePass),
      infoFields: options.info ?? {},
      connectedClients: () => this.connections.size,
      inputHeldBytes: () => this.inputBudget.usedBytes,
      nowMs: () => this.clock.now(),
    }
    this.server = options.tls
      ? createTlsListener({
          tls: options.tls,
          handshakeTimeoutMs: this.limits.tlsHandshakeTimeoutMs,
          logger: options.logger,
          admit: (socket) => void this.admit(socket),
          accept: (socket) => this.accept(socket),
        })
      : net.createServer((socket) => {
          if (this.admit(socket)) this.accept(socket)
        })
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
        this.options.logger.info('RESP server listening', { host: address.address, port: address.port, tls: this.options.tls !== undefined })
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

  /**
   * Tracks a new TCP socket; false (and the socket destroyed) when maxClients sockets are open
   * already. Only TLS sockets are refused here, before their handshake costs anything: a plain
   * one is told why in accept().
   */
  private admit(socket: net.Socket): boolean {
    const { maxClients } = this.limits
    if (this.options.tls && this.sockets.size >= maxClients) {
      this.options.logger.warn('refusing a client: too many connections', { remote: `${socket.remoteAddress}:${socket.remotePort}`, maxClients })
      socket.destroy()
      return false
    }
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    return true
  }

  private accept(socket: net.Socket): void {
    const remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`
    const { maxClients } = this.limits
    if (this.connections.size >= maxClients) {
      this.options.logger.warn('refusing a client: too many connections', { remote: remoteAddress, maxClients })
      // The reset this may provoke is expected; the client has been told why.
      socket.on('error', () => {})
      socket.end(encodeReply(errorReply('ERR', 'max number of clients reached')))
      return
    }
    const refusal = this.options.tls && socket instanceof tls.TLSSocket ? tlsRefusal(socket, this.options.tls.clientCertificate) : null
    if (refusal !== null) {
      this.options.logger.warn('refusing a TLS client', { remote: remoteAddress, reason: refusal })
      socket.destroy()
      return
    }
    socket.setNoDelay(true)
    const client: ClientState = {
      id: this.nextClientId++,
      remoteAddress,
      localAddress: `${socket.localAddress}:${socket.localPort}`,
      name: null,
      libName: null,
      libVersion: null,
      authenticated: this.facts.requirePass === null,
      protocol: 2,
      transaction: null,
      watches: [],
    }
    const connection = new RespConnection({
      socket,
      client,
      parser: new RespParser(parserLimits(this.limits)),
      commands: this.commands,
      backend: this.options.backend,
      server: this.facts,
      logger: this.options.logger,
      clock: this.clock,
      inputBudget: this.inputBudget,
      onCommand: (event) => {
        if (this.commandEvents.observed) this.commandEvents.next(event)
      },
    })
    this.connections.add(connection)
    this.connectionCount.next(this.connections.size)
    void connection.closed.then(() => {
      this.connections.delete(connection)
      this.connectionCount.next(this.connections.size)
    })
  }
}
