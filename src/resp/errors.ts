// Typed errors of the RESP endpoint: errors a command replies with (and keeps the connection),
// protocol errors (malformed input, after which the connection is closed, as Redis does), work
// abandoned because its client has gone, and options out of range.

/**
 * The first word of a RESP error reply. Clients branch on it: TRYAGAIN and CLUSTERDOWN are worth a
 * retry, MOVED and ASK redirect to another node, NOPROTO rejects a HELLO protocol version.
 */
export type RespErrorPrefix =
  | 'ERR'
  | 'WRONGTYPE'
  | 'EXECABORT'
  | 'CROSSSLOT'
  | 'NOPROTO'
  | 'NOAUTH'
  | 'WRONGPASS'
  | 'READONLY'
  | 'LOADING'
  | 'BUSY'
  | 'MASTERDOWN'
  | 'TRYAGAIN'
  | 'CLUSTERDOWN'
  | 'MOVED'
  | 'ASK'

/**
 * A command failed and the client gets `-<respPrefix> <message>`; the connection stays usable.
 * Backends throw it to choose the prefix (e.g. `new RespError('TRYAGAIN', 'no leader yet')`); any
 * other error a backend throws is replied as `-ERR <message>`.
 */
export class RespError extends Error {
  readonly code = 'ERR_RESP_REPLY'
  constructor(
    readonly respPrefix: RespErrorPrefix,
    message: string,
  ) {
    super(message)
    this.name = 'RespError'
  }
}

const PREFIXES: ReadonlySet<string> = new Set([
  'ERR',
  'WRONGTYPE',
  'EXECABORT',
  'CROSSSLOT',
  'NOPROTO',
  'NOAUTH',
  'WRONGPASS',
  'READONLY',
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MOVED',
  'ASK',
])

/** A RespError of an error line in Redis's form, its code first ("WRONGTYPE Operation against ..."); an unknown code is kept in an ERR. */
export function respErrorOf(line: string): RespError {
  const space = line.indexOf(' ')
  const prefix = space > 0 ? line.slice(0, space) : ''
  return PREFIXES.has(prefix) ? new RespError(prefix as RespErrorPrefix, line.slice(space + 1)) : new RespError('ERR', line)
}

/**
 * Input that is not RESP (or exceeds a bound). The message follows Redis's wording, so the server's
 * reply reads `-ERR Protocol error: <message>`; the connection is then closed.
 */
export class RespProtocolError extends Error {
  readonly code = 'ERR_RESP_PROTOCOL'
  constructor(
    message: string,
    /** Bytes of the connection's input consumed before the bad byte, for the log. */
    readonly offsetBytes: number,
  ) {
    super(message)
    this.name = 'RespProtocolError'
  }
}

/**
 * The client's connection closed while its command ran. A command with many steps (WATCH's one
 * read per key) throws it between steps, via its context's AbortSignal: nobody is left to reply to.
 */
export class RespClientGoneError extends Error {
  readonly code = 'ERR_RESP_CLIENT_GONE'
  constructor(
    readonly clientId: number,
    readonly remoteAddress: string,
  ) {
    super(`client ${clientId} (${remoteAddress}) has closed its connection`)
    this.name = 'RespClientGoneError'
  }
}

/** A RespServer option out of its range; the message names the option, as the CLI flag's source. */
export class RespOptionError extends Error {
  readonly code = 'ERR_RESP_OPTION'
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`RESP server option ${option} ${problem}`)
    this.name = 'RespOptionError'
  }
}
