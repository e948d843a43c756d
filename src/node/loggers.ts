// Loggers for processes: pino for machines (one JSON object per line; --log-format json), lograft's
// own text lines for people, and a level below which either stays quiet (--log-level).

import { pino } from 'pino'
import { type LogFields, type Logger, stderrLogger } from '../base/logger.js'

/** The levels a node logs at, quietest last. */
export const LOG_LEVELS = ['info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Adapts a pino logger: each event becomes one JSON line with its fields (after `bound`), level and time. */
export function pinoLogger(target: pino.Logger, bound: LogFields = {}): Logger {
  const line = (fields: LogFields | undefined): Record<string, string | number | boolean | null> => ({ ...clean(bound), ...clean(fields) })
  return {
    error: (message, fields) => target.error(line(fields), message),
    warn: (message, fields) => target.warn(line(fields), message),
    info: (message, fields) => target.info(line(fields), message),
  }
}

/**
 * JSON lines on stderr through pino (level by name, ISO time), written synchronously: a node that
 * fails logs its last line before it exits. `fields` go on every line (e.g. the node's id).
 */
export function jsonStderrLogger(level: LogLevel, fields: LogFields = {}): Logger {
  const target = pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    pino.destination({ dest: 2, sync: true }),
  )
  return pinoLogger(target, fields)
}

/** Drops the events below `level`; the others go to `logger`. */
export function atLevel(logger: Logger, level: LogLevel): Logger {
  const least = LOG_LEVELS.indexOf(level)
  const quiet = (): void => {}
  return {
    error: (message, fields) => logger.error(message, fields),
    warn: least <= 1 ? (message, fields) => logger.warn(message, fields) : quiet,
    info: least <= 0 ? (message, fields) => logger.info(message, fields) : quiet,
  }
}

/** lograft's text lines on stderr at `level`. */
export function textStderrLogger(level: LogLevel): Logger {
  return atLevel(stderrLogger, level)
}

function clean(fields: LogFields | undefined): Record<string, string | number | boolean | null> {
  const kept: Record<string, string | number | boolean | null> = {}
  if (fields) for (const [key, value] of Object.entries(fields)) if (value !== undefined) kept[key] = value
  return kept
}
