// A real redis-server, for the tests that compare lograft with Redis (persistence off) and for
// bench:redis's baseline (an fsynced AOF): started on a free loopback port, waited for until it
// answers INFO, stopped by its process id, and never left running if this process exits.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { eventually, freePortBlock, infoFields } from './kv-processes.js'

export const REDIS_SERVER_PATH = '/usr/bin/redis-server'
/** The replies the conformance tests expect are those of this release line (Debian and Ubuntu ship 7.0.15). */
export const REDIS_VERSION_PREFIX = '7.0.'
const HOST = '127.0.0.1'
const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000
/** Keep only the end of the server's output, for failure messages. */
const MAX_OUTPUT_CHARS = 8000
/** No snapshots and no append-only file: what the comparisons need, and the fastest start. */
const NO_PERSISTENCE = ['--save', '', '--appendonly', 'no']

/** redis-server is not installed, not the expected version, or did not start. */
export class RedisServerError extends Error {
  readonly code = 'ERR_REDIS_SERVER'
}

export interface RedisServer {
  readonly host: string
  readonly port: number
  readonly version: string
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>
}

export interface RedisServerOptions {
  /** Persistence arguments (e.g. --dir, --appendonly yes, --appendfsync always); default none. */
  persistence?: readonly string[]
  /** Refuse a server whose version does not start with this. */
  versionPrefix?: string
}

/** The installed redis-server's version (7.0.15), or null when it is not installed. */
export function redisServerVersion(): string | null {
  const result = spawnSync(REDIS_SERVER_PATH, ['--version'], { encoding: 'utf8' })
  if (result.status !== 0) return null
  return /v=(\S+)/.exec(result.stdout)?.[1] ?? 'unknown'
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts redis-server on a free loopback port and waits until it answers INFO. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (redisServerVersion() === null) {
    throw new RedisServerError(`${REDIS_SERVER_PATH} is missing: install the redis-server package (it is listed in .ci/apt-packages)`)
  }
  const port = (await freePortBlock(1, HOST)) + 1
  const args = [...(options.persistence ?? NO_PERSISTENCE), '--bind', HOST, '--port', String(port), '--daemonize', 'no', '--logfile', '']
  const child = spawn(REDIS_SERVER_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-MAX_OUTPUT_CHARS)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const kill = (): void => void child.kill('SIGKILL')
  process.once('exit', kill)
  const stop = async (): Promise<void> => {
    const gone = exited(child)
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await gone
    clearTimeout(timer)
    process.removeListener('exit', kill)
  }
  let version: string | undefined
  const ready = await eventually(async () => {
    if (child.exitCode !== null) return true
    version = (await infoFields(port))?.get('redis_version')
    return version !== undefined
  }, START_TIMEOUT_MS)
  if (!ready || version === undefined) {
    await stop()
    throw new RedisServerError(`${REDIS_SERVER_PATH} on port ${port} did not answer within ${START_TIMEOUT_MS} ms (exit code ${child.exitCode}):\n${output}`)
  }
  if (options.versionPrefix !== undefined && !version.startsWith(options.versionPrefix)) {
    await stop()
    throw new RedisServerError(`${REDIS_SERVER_PATH} is Redis ${version}; the expected replies are those of Redis ${options.versionPrefix}x`)
  }
  return { host: HOST, port, version, stop }
}
