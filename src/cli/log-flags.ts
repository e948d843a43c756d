// --log-format text|json and --log-level info|warn|error, taken by every server command.

import type { Logger } from '../base/logger.js'
import { LOG_LEVELS, type LogLevel, jsonStderrLogger, textStderrLogger } from '../node/loggers.js'
import { UsageError } from './usage.js'

export const LOG_FLAG_OPTIONS = {
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
} as const

/** The logger the flags ask for: text lines (the default) or pino's JSON lines, on stderr. */
export function loggerFromFlags(values: { 'log-format'?: string | undefined; 'log-level'?: string | undefined }, fields: Record<string, string> = {}): Logger {
  const level = values['log-level'] ?? 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level is one of ${LOG_LEVELS.join(', ')}, not "${level}"`)
  const format = values['log-format'] ?? 'text'
  if (format === 'json') return jsonStderrLogger(level as LogLevel, fields)
  if (format === 'text') return textStderrLogger(level as LogLevel)
  throw new UsageError(`--log-format is text or json, not "${format}"`)
}
