// A minimal structured logger interface, injected wherever lograft reports something it cannot
// return as an error (a bad frame on a connection, a failed background task).

export type LogFields = Record<string, string | number | boolean | null | undefined>

export interface Logger {
  error(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
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

export const silentLogger: Logger = { error: () => {}, warn: () => {}, info: () => {} }

export interface LoggedEvent {
  level: 'error' | 'warn' | 'info'
  message: string
  fields: LogFields | undefined
}

/** Keeps events in memory, for tests that assert what was logged. */
export class MemoryLogger implements Logger {
  readonly events: LoggedEvent[] = []
  error(message: string, fields?: LogFields): void {
    this.events.push({ level: 'error', message, fields })
  }
  warn(message: string, fields?: LogFields): void {
    this.events.push({ level: 'warn', message, fields })
  }
  info(message: string, fields?: LogFields): void {
    this.events.push({ level: 'info', message, fields })
  }
}
