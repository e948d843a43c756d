// A real redis-server for tests that compare lograft with Redis: started on a free loopback port
// with persistence off, checked to be the version the comparisons were written against, stopped
// by its process id.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { eventually, freePortBlock, infoFields } from './kv-processes.js'

export const REDIS_SERVER_PATH = '/usr/bin/redis-server'
/** The replies the conformance tests expect are those of this release line (Debian and Ubuntu ship 7.0.15). */
export const REDIS_VERSION_PREFIX = '7.0.'
const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

/** redis-server is not installed, not the expected version, or did not start. */
export class RedisServerError extends Error {
  readonly code = 'ERR_REDIS_SERVER'
}

export interface RedisServer {
  readonly port: number
  readonly version: string
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts redis-server on a free port, without snapshots or an append-only file, and waits until it answers INFO. */
export async function startRedisServer(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER_PATH)) {
    throw new RedisServerError(`${REDIS_SERVER_PATH} is missing: install the redis-server package (it is listed in .ci/apt-packages)`)
  }
  const port = (await freePortBlock(1)) + 1
  const child = spawn(REDIS_SERVER_PATH, ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const stop = async (): Promise<void> => {
    const gone = exited(child)
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await gone
    clearTimeout(timer)
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
  if (!version.startsWith(REDIS_VERSION_PREFIX)) {
    await stop()
    throw new RedisServerError(`${REDIS_SERVER_PATH} is Redis ${version}; the expected replies are those of Redis ${REDIS_VERSION_PREFIX}x`)
  }
  return { port, version, stop }
}
