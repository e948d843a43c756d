/** Why a call failed. Every Transport rejects with an RpcError carrying one of these codes. */
export type RpcErrorCode =
  /** No connection to the peer (disabled/unconnected end, refused or failed TCP connect). */
  | 'UNREACHABLE'
  /** The request or reply was lost, or the server died while handling it. */
  | 'LOST'
  /** No reply within the call's timeout. */
  | 'TIMEOUT'
  /** The connection closed while the call was in flight. */
  | 'CONNECTION_LOST'
  /** The server has no handler for the method. */
  | 'NO_HANDLER'
  /** The handler threw; the message is the handler's. */
  | 'REMOTE'
  /** The encoded request or reply exceeds the maximum frame size. */
  | 'FRAME_TOO_LARGE'
  /** The server refused the request because too many are in flight on the connection. */
  | 'OVERLOADED'
  /** The transport was closed. */
  | 'CLOSED'
  /** A message could not be decoded. */
  | 'BAD_MESSAGE'

/**
 * How every Transport call fails. `code` says why, and so whether the request may have run: not
 * after UNREACHABLE (it was never delivered), perhaps after LOST, TIMEOUT or CONNECTION_LOST, so
 * retry only what is safe to repeat. An RpcError a handler throws reaches the caller with its code.
 */
export class RpcError extends Error {
  constructor(
    readonly code: RpcErrorCode,
    message: string,
    /** The peer called, when known. */
    readonly peer?: string,
    /** The method called ("Service.Method"), when known. */
    readonly method?: string,
  ) {
    super(message)
    this.name = 'RpcError'
  }
}

const KNOWN_CODES = new Set<string>([
  'UNREACHABLE',
  'LOST',
  'TIMEOUT',
  'CONNECTION_LOST',
  'NO_HANDLER',
  'REMOTE',
  'FRAME_TOO_LARGE',
  'OVERLOADED',
  'CLOSED',
  'BAD_MESSAGE',
])

/** Reads an error code that arrived over the wire; anything unknown becomes REMOTE. */
export function parseRpcErrorCode(code: string): RpcErrorCode {
  return KNOWN_CODES.has(code) ? (code as RpcErrorCode) : 'REMOTE'
}

/** Whether `error` is an RpcError, and with `code` if one is given. */
export function isRpcError(error: unknown, code?: RpcErrorCode): error is RpcError {
  return error instanceof RpcError && (code === undefined || error.code === code)
}
