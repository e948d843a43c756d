/** Structured details of a log event; fields whose value is undefined are left out. */
export type LogFields = Record<string, string | number | boolean | null | undefined>

/**
 * A minimal structured logger, injected wherever lograft reports something it cannot return as an
 * error (a bad frame on a connection, a failed background task). Components default to
 * {@link stderrLogger}; adapt your own logger to these three methods to route the events elsewhere.
 */
export interface Logger {
  /** A failure that needs an operator: a peer that lost its state, a node that stopped, a bad frame. */
  error(message: string, fields?: LogFields): void
  /** Something went wrong that lograft works around: a refused message or connection, a failed background step. */
  warn(message: string, fields?: LogFields): void
  /** A notable event in normal operation: a membership change, a connection (re)established. */
  info(message: string, fields?: LogFields): void
}

function format(level: string, message: string, fields: LogFields | undefined): string {
  const details = fields
    ? Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => ` ${key}=${JSON.stringify(value)}`)
        .join('')
    : ''
  return `${new Date().toISOString()} ${level} ${message}${details}\n`
}

/** Writes one line per event to stderr. */
export const stderrLogger: Logger = {
  error: (message, fields) => process.stderr.write(format('ERROR', message, fields)),
  warn: (message, fields) => process.stderr.write(format('WARN', message, fields)),
  info: (message, fields) => process.stderr.write(format('INFO', message, fields)),
}

/** Discards every event. */
export const silentLogger: Logger = { error: () => {}, warn: () => {}, info: () => {} }

/**
 * Writes errors to stderr and discards the rest: for a command whose peers come and go as a matter
 * of course (MapReduce workers that exit, a shard admin's servers restarting), where each reset
 * connection would otherwise be a warning.
 */
export const quietLogger: Logger = { error: stderrLogger.error, warn: () => {}, info: () => {} }

/** One event as {@link MemoryLogger} records it. */
export interface LoggedEvent {
  level: 'error' | 'warn' | 'info'
  message: string
  fields: LogFields | undefined
}

/** Keeps events in memory, for tests that assert what was logged. */
export class MemoryLogger implements Logger {
  /** Every event logged so far, oldest first. */
  readonly events: LoggedEvent[] = []
  /** Records an error-level event. */
  error(message: string, fields?: LogFields): void {
    this.events.push({ level: 'error', message, fields })
  }
  /** Records a warn-level event. */
  warn(message: string, fields?: LogFields): void {
    this.events.push({ level: 'warn', message, fields })
  }
  /** Records an info-level event. */
  info(message: string, fields?: LogFields): void {
    this.events.push({ level: 'info', message, fields })
  }
}
