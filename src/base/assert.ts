// Invariant assertions that stop the program loudly instead of letting it corrupt data.

/** Thrown when an internal invariant does not hold: a bug in lograft, never a user error. */
export class InvariantError extends Error {
  readonly code = 'ERR_INVARIANT'
  constructor(message: string) {
    super(`invariant violated: ${message}`)
    this.name = 'InvariantError'
  }
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message())
}
