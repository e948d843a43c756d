// One client connection: parses its bytes, runs its commands strictly one after another (the next
// starts when the previous reply is written), so replies come back in request order and a client's
// writes reach the backend in the order it sent them. Other connections run independently.
// It keeps the connection within the bounds of limits.ts: it stops reading while too much waits to
// run, holds its input within its share of the server-wide InputBudget, abandons work once its
// client has gone, and closes the connection (logged, with the client's address and the reason)
// when it is idle, when a command takes too long to arrive, or when its replies go unread.

import type net from 'node:net'
import type { Clock } from '../base/clock.js'
import { InvariantError } from '../base/assert.js'
import type { LogFields, Logger } from '../base/logger.js'
import type { KvBackend } from './backend.js'
import { CommandQueue } from './command-queue.js'
import { type ClientState, type CommandSpec, type CommandTable, type ServerFacts, argText } from './commands.js'
import { runOrQueue } from './transaction-commands.js'
import { MAX_BATCH_COMMANDS, batchable, runBatch } from './pipelined-commands.js'
import type { DataCommandSpec } from './kv-plan.js'

/** A data command in a pipelined batch, with the spec that plans it. */
interface BatchedCommand {
  readonly args: readonly Buffer[]
  readonly spec: DataCommandSpec
}
import { RespClientGoneError, RespError } from './errors.js'
import type { InputBudget } from './input-budget.js'
import type { RespParser } from './parser.js'
import { type RespReply, errorReply } from './reply.js'
import { Timer } from './timer.js'
import { encodeReply } from './writer.js'

export interface RespConnectionOptions {
  readonly socket: net.Socket
  readonly client: ClientState
  readonly parser: RespParser
  readonly commands: CommandTable
  readonly backend: KvBackend
  /** Its limits are the connection's bounds. */
  readonly server: ServerFacts
  readonly logger: Logger
  readonly clock: Clock
  /** The server-wide bound this connection's input is held within. */
  readonly inputBudget: InputBudget
  /** Told of every command run: its name ("unknown" if none matched), how it ended and how long it took. */
  readonly onCommand: (event: RespCommandEvent) => void
}

/** One command as RespServer.commands$ reports it. */
export interface RespCommandEvent {
  /** The command's lowercase name, or "unknown" (so that a client cannot make up names to count). */
  command: string
  /** ok: a reply other than an error; error: an error reply; abandoned: its client went away. */
  outcome: 'ok' | 'error' | 'abandoned'
  ms: number
}

interface Outcome {
  readonly reply: RespReply
  readonly closesConnection: boolean
}

export class RespConnection {
  /** Null once no more input is parsed (the connection is closing, or its input was refused). */
  private parser: RespParser | null
  private readonly queue = new CommandQueue()
  /** The bytes of the command running, held until its reply is written. */
  private runningBytes = 0
  /** This connection's share of the input budget. */
  private budgetBytes = 0
  private running = false
  /** Set once the connection is on its way out: nothing more runs. */
  private closing = false
  /** Set once the socket has closed. */
  private ended = false
  private corked = false
  /** When a byte last arrived or a reply was last written, for the idle timeout. */
  private lastActivityMs: number
  /** Aborted, with a RespClientGoneError, once the client can no longer be answered. */
  private readonly gone = new AbortController()
  private readonly idleTimer: Timer
  private readonly arrivalTimer: Timer
  private readonly outputTimer: Timer
  private readonly graceTimer: Timer
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>

  constructor(private readonly options: RespConnectionOptions) {
    const { socket, clock, client, logger } = options
    this.parser = options.parser
    this.lastActivityMs = clock.now()
    this.idleTimer = new Timer(clock)
    this.arrivalTimer = new Timer(clock)
    this.outputTimer = new Timer(clock)
    this.graceTimer = new Timer(clock)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (error) => logger.info('client connection error', { client: client.id, remote: client.remoteAddress, reason: error.message }))
    // The server does not keep half-open connections: once the client has ended its side, node
    // ends this one, and no reply can reach the client any more.
    socket.on('end', () => this.abandon())
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true
        this.abandon()
        for (const timer of [this.idleTimer, this.arrivalTimer, this.outputTimer, this.graceTimer]) timer.stop()
        resolve()
      }),
    )
    this.watchIdle()
  }

  private get limits(): ServerFacts['limits'] {
    return this.options.server.limits
  }

  private receive(chunk: Buffer): void {
    // Once input has ended (QUIT, a protocol error, a bound exceeded) further bytes are read and
    // dropped, so that the close is a clean FIN after the last reply rather than a reset that could discard it.
    const parser = this.parser
    if (parser === null) return
    this.lastActivityMs = this.options.clock.now()
    const { commands, protocolError } = parser.push(chunk)
    for (const args of commands) this.queue.pushCommand(args)
    if (protocolError) {
      this.endInput(errorReply('ERR', `Protocol error: ${protocolError.message}`), `protocol error: ${protocolError.message}`, {
        offsetBytes: protocolError.offsetBytes,
      })
    } else if (!this.account()) {
      // The share stays as it was: the bytes over it (at most this chunk) go with the connection.
      const { maxTotalInputBytes } = this.limits
      this.endInput(
        errorReply('ERR', `the server holds too much client input (over ${maxTotalInputBytes} bytes for all clients); try again later`),
        'client input held by the server would exceed maxTotalInputBytes',
        { maxTotalInputBytes, heldBytes: this.options.inputBudget.usedBytes },
      )
    } else {
      if (this.queueFull) this.options.socket.pause()
      this.watchArrival(commands.length > 0)
    }
    void this.run()
  }

  private get queueFull(): boolean {
    return this.queue.length >= this.limits.maxPipelinedCommands || this.queue.heldBytes >= this.limits.maxPipelinedBytes
  }

  private async run(): Promise<void> {
    if (this.running) return
    this.running = true
    const { socket } = this.options
    try {
      while (!this.closing && !this.gone.signal.aborted) {
        const item = this.queue.shift()
        if (item === undefined) break
        if (item.kind === 'close') {
          this.logClose('warn', item.reason, item.fields)
          this.write(item.reply)
          this.closeAfterReplies()
          break
        }
        const batch = this.commandsBehind(item.args, item.heldBytes)
        let outcomes: Outcome[] | null
        if (batch === null) {
          this.runningBytes = item.heldBytes
          const outcome = await this.execute(item.args)
          outcomes = outcome === null ? null : [outcome]
        } else {
          this.runningBytes = batch.heldBytes
          outcomes = await this.executeBatch(batch.commands)
        }
        this.runningBytes = 0
        this.account()
        if (outcomes === null) break
        for (const outcome of outcomes) this.write(outcome.reply)
        if (outcomes.some((outcome) => outcome.closesConnection)) {
          this.closeAfterReplies()
          break
        }
        if (socket.writableNeedDrain && !(await this.drained())) break
        this.resumeIfRoom()
      }
    } finally {
      this.running = false
    }
  }

  /**
   * When `args` is a data command and more wait behind it, takes those (up to a batch's bounds) off
   * the queue to run with it: the whole batch, with the bytes it holds; null when it runs alone.
   */
  private commandsBehind(args: Buffer[], argsHeldBytes: number): { commands: BatchedCommand[]; heldBytes: number } | null {
    const { commands, client, backend } = this.options
    const first = batchable(args, commands, { client, backend })
    if (!first) return null
    const batch: BatchedCommand[] = [{ args, spec: first }]
    let heldBytes = argsHeldBytes
    for (;;) {
      const next = this.queue.peek()
      if (next?.kind !== 'command' || batch.length >= MAX_BATCH_COMMANDS || heldBytes - argsHeldBytes + next.heldBytes > this.limits.maxValueBytes) break
      const spec = batchable(next.args, commands, { client, backend })
      if (!spec) break
      this.queue.shift()
      batch.push({ args: next.args, spec })
      heldBytes += next.heldBytes
    }
    return batch.length === 1 ? null : { commands: batch, heldBytes }
  }

  /** The replies of a batch of data commands, or null when the client went away while it ran. */
  private async executeBatch(batch: readonly BatchedCommand[]): Promise<Outcome[] | null> {
    const { clock, onCommand, commands, backend, client, server, logger } = this.options
    const startedMs = clock.now()
    try {
      const replies = await runBatch(batch, { backend, client, server, commands, signal: this.gone.signal })
      const ms = clock.now() - startedMs
      batch.forEach(({ spec }, at) => onCommand({ command: spec.name, outcome: replies[at]?.kind === 'error' ? 'error' : 'ok', ms }))
      return replies.map((reply) => ({ reply, closesConnection: false }))
    } catch (error) {
      if (!(error instanceof RespClientGoneError)) throw error
      logger.info('abandoned a command: its client has gone', { client: client.id, remote: client.remoteAddress, command: 'pipelined commands' })
      for (const { spec } of batch) onCommand({ command: spec.name, outcome: 'abandoned', ms: clock.now() - startedMs })
      return null
    }
  }

  /** The command's reply, or null when its client went away while it ran (its work was abandoned). */
  private async execute(args: Buffer[]): Promise<Outcome | null> {
    const { clock, onCommand, commands } = this.options
    const startedMs = clock.now()
    const outcome = await this.executeResolved(args)
    const ended = outcome === null ? 'abandoned' : outcome.reply.kind === 'error' ? 'error' : 'ok'
    onCommand({ command: commands.lookup(argText(args, 0))?.name ?? 'unknown', outcome: ended, ms: clock.now() - startedMs })
    return outcome
  }

  private async executeResolved(args: Buffer[]): Promise<Outcome | null> {
    const { commands, backend, client, server, logger } = this.options
    try {
      const spec = resolveInTransaction(commands, args, client)
      const reply = await runOrQueue(spec, args, { backend, client, server, commands, signal: this.gone.signal })
      return { reply, closesConnection: spec.closesConnection === true }
    } catch (error) {
      if (error instanceof InvariantError) throw error
      if (error instanceof RespError) return { reply: errorReply(error.respPrefix, error.message), closesConnection: false }
      if (error instanceof RespClientGoneError) {
        logger.info('abandoned a command: its client has gone', { client: client.id, remote: client.remoteAddress, command: argText(args, 0) })
        return null
      }
      const reason = error instanceof Error ? error.message : String(error)
      logger.warn('command failed', { client: client.id, command: argText(args, 0), reason })
      return { reply: errorReply('ERR', reason), closesConnection: false }
    }
  }

  /** Writes are corked until the end of the tick, so replies to a pipelined batch leave in one segment. */
  private write(reply: RespReply): void {
    const { socket, clock } = this.options
    if (socket.destroyed || !socket.writable) return
    this.lastActivityMs = clock.now()
    if (!this.corked) {
      this.corked = true
      socket.cork()
      process.nextTick(() => {
        this.corked = false
        socket.uncork()
      })
    }
    socket.write(encodeReply(reply, this.options.client.protocol))
  }

  /**
   * Resolves true once the client has read enough of its replies to be sent more; false if the
   * socket closed first, which it is when the client leaves them unread for outputStallTimeoutMs.
   */
  private drained(): Promise<boolean> {
    const { socket } = this.options
    const { outputStallTimeoutMs } = this.limits
    return new Promise((resolve) => {
      const finish = (drained: boolean): void => {
        socket.off('drain', onDrain)
        socket.off('close', onClose)
        this.outputTimer.stop()
        resolve(drained)
      }
      const onDrain = (): void => finish(true)
      const onClose = (): void => finish(false)
      socket.on('drain', onDrain)
      socket.on('close', onClose)
      if (outputStallTimeoutMs === 0) return
      this.outputTimer.start(outputStallTimeoutMs, () => {
        this.logClose('warn', `replies unread for ${outputStallTimeoutMs} ms`, { unreadBytes: socket.writableLength })
        socket.destroy()
      })
    })
  }

  private resumeIfRoom(): void {
    const { socket } = this.options
    if (this.parser === null || !socket.isPaused() || this.queueFull) return
    socket.resume()
    this.watchArrival(true)
  }

  /**
   * Resizes this connection's share of the input budget to the input it holds: the command being
   * received, the commands waiting and the one running. False, and no change, if growing it would
   * take the server-wide total over its bound.
   */
  private account(): boolean {
    const heldBytes = this.ended ? 0 : (this.parser?.bufferedBytes ?? 0) + this.queue.heldBytes + this.runningBytes
    if (!this.options.inputBudget.resize(this.budgetBytes, heldBytes)) return false
    this.budgetBytes = heldBytes
    return true
  }

  /**
   * Starts the deadline of a command that has begun arriving, restarted whenever a command
   * completes (`completedSome`), and counted only while the server reads from the connection.
   */
  private watchArrival(completedSome: boolean): void {
    const { incompleteCommandTimeoutMs } = this.limits
    if (incompleteCommandTimeoutMs === 0 || !this.parser?.midCommand || this.options.socket.isPaused()) {
      this.arrivalTimer.stop()
      return
    }
    if (!completedSome && this.arrivalTimer.running) return
    this.arrivalTimer.start(incompleteCommandTimeoutMs, () => {
      const reason = `command incomplete after ${incompleteCommandTimeoutMs} ms`
      this.endInput(errorReply('ERR', `${reason}; closing the connection`), reason, {})
      void this.run()
    })
  }

  /** Closes the connection once it has been idle, neither receiving nor running anything, for idleTimeoutMs. */
  private watchIdle(): void {
    const { idleTimeoutMs } = this.limits
    if (idleTimeoutMs === 0) return
    const idleForMs = this.options.clock.now() - this.lastActivityMs
    const busy = this.running || this.queue.length > 0
    if (busy || idleForMs < idleTimeoutMs) {
      this.idleTimer.start(busy ? idleTimeoutMs : idleTimeoutMs - idleForMs, () => this.watchIdle())
      return
    }
    this.logClose('info', `idle for ${idleTimeoutMs} ms`)
    this.closeAfterReplies()
  }

  /**
   * Parses no more input: once the replies owed have been written, `reply` is, and the connection
   * closes, logged with `reason`.
   */
  private endInput(reply: RespReply, reason: string, fields: LogFields): void {
    this.parser = null
    this.arrivalTimer.stop()
    this.queue.pushClose(reply, reason, fields)
    this.options.socket.resume()
    this.account()
  }

  /** Sends what has been written, then closes; the client has closeGraceMs to close its side. */
  private closeAfterReplies(): void {
    const { socket } = this.options
    this.closing = true
    this.parser = null
    this.queue.clear()
    this.account()
    this.idleTimer.stop()
    this.arrivalTimer.stop()
    socket.resume()
    socket.end()
    this.graceTimer.start(this.limits.closeGraceMs, () => socket.destroy())
  }

  /** The client can no longer be answered: the running command stops at its next check, and nothing queued runs. */
  private abandon(): void {
    const { client } = this.options
    if (!this.gone.signal.aborted) this.gone.abort(new RespClientGoneError(client.id, client.remoteAddress))
    this.parser = null
    this.queue.clear()
    this.account()
  }

  private logClose(level: 'info' | 'warn', reason: string, fields: LogFields = {}): void {
    const { logger, client } = this.options
    logger[level]('closing client connection', { client: client.id, remote: client.remoteAddress, reason, ...fields })
  }
}

/** The command `args` names; an unknown one, or one of the wrong arity, also refuses the client's open transaction (EXEC then aborts). */
function resolveInTransaction(commands: CommandTable, args: readonly Buffer[], client: ClientState): CommandSpec {
  try {
    return commands.resolve(args, client.authenticated)
  } catch (error) {
    // EXEC of the wrong arity ends any transaction there and then, in Redis's words.
    if (error instanceof RespError && client.authenticated && argText(args, 0).toLowerCase() === 'exec') {
      client.transaction = null
      client.watches = []
      throw new RespError('EXECABORT', `Transaction discarded because of: ${error.message}`)
    }
    if (!client.transaction) throw error
    client.transaction.refused = true
    throw error
  }
}
