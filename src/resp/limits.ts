// The RESP endpoint's bounds on memory and time, as options with defaults. The parser's sizes follow
// the server's (a bulk string may be no longer than the largest value, key or inline line), so that
// a header announcing more than any command could use is refused before a byte of it is buffered.

import { RespOptionError } from './errors.js'
import { DEFAULT_RESP_PARSER_OPTIONS, type RespParserOptions } from './parser.js'

/**
 * Every bound of the RESP server; each is optional and has the default it documents. Together they
 * bound what the server holds for its clients:
 * - input per connection: the command being received (the parser's maxCommandBytes, with
 *   maxArrayElements arguments) plus commands received and waiting to run (maxPipelinedCommands,
 *   maxPipelinedBytes; then the server stops reading and TCP pushes back on the client);
 * - input over all connections: maxTotalInputBytes;
 * - output per connection: the socket's high-water mark plus one reply, as the server runs none of
 *   a client's commands while its replies wait unread (for at most outputStallTimeoutMs);
 * - time: idleTimeoutMs, incompleteCommandTimeoutMs, tlsHandshakeTimeoutMs.
 */
export interface RespLimitOptions extends Partial<RespParserOptions> {
  /** Connections served at once; more are told `-ERR max number of clients reached` and closed. Default 10000. */
  maxClients?: number
  /** Largest value SET or APPEND accept; larger ones are refused before the backend. Default 64 MiB. */
  maxValueBytes?: number
  /** Largest key accepted by any data command. Default 64 KiB. */
  maxKeyBytes?: number
  /** Per connection: parsed commands waiting to run before the server stops reading from it. Default 1024. */
  maxPipelinedCommands?: number
  /**
   * Per connection: bytes of parsed commands waiting to run (arguments and ARGUMENT_OVERHEAD_BYTES
   * each) at which the server stops reading from it until they have run. One command is always
   * taken, however large. Default 1 MiB.
   */
  maxPipelinedBytes?: number
  /**
   * All connections together: bytes of client input held, for commands still arriving and for
   * commands received but not yet answered. A connection whose input would take the total over
   * this is told `-ERR` (after the replies it is owed) and closed, and the close is logged; the
   * other connections carry on. At least maxCommandBytes, or the largest command could never be
   * held. Default 256 MiB, or maxCommandBytes if that is more.
   */
  maxTotalInputBytes?: number
  /**
   * A connection with no command arriving, waiting or running for this long is closed (logged),
   * as by Redis's `timeout`. 0 keeps idle connections open. Default 300 000 ms.
   */
  idleTimeoutMs?: number
  /**
   * A command that has begun arriving must be complete within this (counted while the server is
   * reading from the connection), or the client is told `-ERR` and closed (logged): a client
   * sending a byte now and then cannot hold a connection and its buffer. A 64 MiB value must
   * therefore arrive at over 2.2 MB/s with the default; raise it for slow links. 0 waits forever.
   * Default 30 000 ms.
   */
  incompleteCommandTimeoutMs?: number
  /**
   * How long the server waits for a client to read replies it has been sent (while they exceed
   * the socket's high-water mark, and no further command of the client runs) before closing the
   * connection, logged; like Redis's client-output-buffer-limit. A client reading a large value
   * must take it within this. 0 waits forever. Default 60 000 ms.
   */
  outputStallTimeoutMs?: number
  /** After QUIT or a protocol error: how long the client has to close before the server closes hard. Default 1000 ms. */
  closeGraceMs?: number
  /** With TLS: a client must complete its handshake within this, or it is disconnected (logged). Default 10 000 ms. */
  tlsHandshakeTimeoutMs?: number
}

/** The bounds in force: every option resolved to its value. */
export type RespLimits = Readonly<Required<RespLimitOptions>>

const MIB = 1024 * 1024

const DEFAULTS = {
  maxClients: 10_000,
  maxValueBytes: 64 * MIB,
  maxKeyBytes: 64 * 1024,
  maxPipelinedCommands: 1024,
  maxPipelinedBytes: MIB,
  maxTotalInputBytes: 256 * MIB,
  idleTimeoutMs: 300_000,
  incompleteCommandTimeoutMs: 30_000,
  outputStallTimeoutMs: 60_000,
  closeGraceMs: 1000,
  tlsHandshakeTimeoutMs: 10_000,
} as const

type ServerLimitName = keyof typeof DEFAULTS

/** Limits that may be 0 (for the timeouts: none; for closeGraceMs: close at once); every other one must be at least 1. */
const MAY_BE_ZERO: ReadonlySet<keyof RespLimits> = new Set(['idleTimeoutMs', 'incompleteCommandTimeoutMs', 'outputStallTimeoutMs', 'closeGraceMs'])

/**
 * The options with their defaults; throws RespOptionError naming an option out of range. Unless
 * given, the longest bulk string is the longest of a value, a key and an inline line (any argument
 * may be as long as an inline command could carry), and the most argument bytes of one command are
 * that plus a key plus an inline line (a SET of the largest key and value, with room for its name).
 */
export function resolveLimits(options: RespLimitOptions): RespLimits {
  const server = { ...DEFAULTS } as Record<ServerLimitName, number>
  for (const name of Object.keys(DEFAULTS) as ServerLimitName[]) server[name] = options[name] ?? DEFAULTS[name]
  const maxInlineBytes = options.maxInlineBytes ?? DEFAULT_RESP_PARSER_OPTIONS.maxInlineBytes
  const maxBulkBytes = options.maxBulkBytes ?? Math.max(server.maxValueBytes, server.maxKeyBytes, maxInlineBytes)
  const maxCommandBytes = options.maxCommandBytes ?? maxBulkBytes + server.maxKeyBytes + maxInlineBytes
  const limits: RespLimits = {
    ...server,
    maxInlineBytes,
    maxBulkBytes,
    maxArrayElements: options.maxArrayElements ?? DEFAULT_RESP_PARSER_OPTIONS.maxArrayElements,
    maxCommandBytes,
    maxTotalInputBytes: options.maxTotalInputBytes ?? Math.max(DEFAULTS.maxTotalInputBytes, maxCommandBytes),
  }
  for (const [name, value] of Object.entries(limits) as [keyof RespLimits, number][]) {
    const least = MAY_BE_ZERO.has(name) ? 0 : 1
    if (!Number.isSafeInteger(value) || value < least) throw new RespOptionError(name, `must be a whole number of at least ${least}, not ${value}`)
  }
  if (limits.maxTotalInputBytes < maxCommandBytes) {
    throw new RespOptionError(
      'maxTotalInputBytes',
      `(${limits.maxTotalInputBytes}) must be at least maxCommandBytes (${maxCommandBytes}), or the largest command could never be held`,
    )
  }
  return limits
}

/** The parser's share of the limits. */
export function parserLimits(limits: RespLimits): RespParserOptions {
  const { maxBulkBytes, maxArrayElements, maxInlineBytes, maxCommandBytes } = limits
  return { maxBulkBytes, maxArrayElements, maxInlineBytes, maxCommandBytes }
}
