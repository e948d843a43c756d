// Command-line errors: a wrong flag or a bad value is reported in one line, with the usage of the
// command, and a non-zero exit — never a stack trace.

import { parseArgs, type ParseArgsConfig } from 'node:util'
import { parseAddress } from '../rpc/address.js'

export class UsageError extends Error {
  readonly code = 'ERR_USAGE'
}

/** node:util parseArgs (pass strict: true), with its errors turned into UsageErrors. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

export function requireInteger(name: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${text}"`)
  return value
}

/**
 * --max-raft-state as a node option: none when the flag is not given, so that each kind of node
 * keeps its own default (the shard controller's small state snapshots sooner than the others').
 */
export function maxRaftStateFromFlags(values: { 'max-raft-state'?: string | undefined }): { maxRaftStateBytes?: number } {
  const text = values['max-raft-state']
  return text === undefined ? {} : { maxRaftStateBytes: requireInteger('max-raft-state', text, 0) }
}

/** `text` if it is a "host:port" or "unix:PATH" address, else a usage error naming the flag. */
export function checkAddress(flag: string, text: string): string {
  try {
    parseAddress(text)
    return text
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`)
  }
}
