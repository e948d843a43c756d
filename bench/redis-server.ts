// The baseline of bench/redis.ts: one Debian redis-server on a free loopback port, no replication,
// every write appended to its AOF and fsynced before the reply (appendonly yes, appendfsync
// always), no RDB snapshots, its files in a directory of the bench's own.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { RespClient } from '../src/resp/client.js'
import { freePortBlock } from '../src/testing/ports.js'

const HOST = '127.0.0.1'
const START_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5000
const POLL_MS = 50
/** Keep only the end of the server's log, for failure messages. */
const MAX_LOG_CHARS = 8000

export class RedisServerError extends Error {
  readonly code = 'ERR_REDIS_SERVER'
}

export interface RedisServer {
  readonly host: string
  readonly port: number
  stop(): Promise<void>
}

/** redis-server's version (7.0.15), or null when it is not on PATH. */
export function redisServerVersion(): string | null {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (result.status !== 0) return null
  return /v=(\S+)/.exec(result.stdout)?.[1] ?? 'unknown'
}

/** Starts redis-server with its files in `directory`; resolves once it answers PING. */
export async function startRedisServer(directory: string): Promise<RedisServer> {
  mkdirSync(directory, { recursive: true })
  const port = (await freePortBlock(1, HOST)) + 1
  const child = spawn(
    'redis-server',
    [
      ...['--bind', HOST, '--port', String(port), '--dir', directory],
      ...['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
      ...['--daemonize', 'no', '--logfile', ''],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-MAX_LOG_CHARS)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = (): void => void child.kill('SIGKILL')
  // A crash of this process must not leave redis-server running.
  process.once('exit', kill)
  const stop = async (): Promise<void> => {
    await stopChild(child, exited)
    process.removeListener('exit', kill)
  }
  try {
    await waitForPong(port, exited, () => log.trim())
  } catch (error) {
    await stop()
    throw error
  }
  return { host: HOST, port, stop }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

async function waitForPong(port: number, exited: Promise<void>, logTail: () => string): Promise<void> {
  const deadlineMs = Date.now() + START_TIMEOUT_MS
  let hasExited = false
  void exited.then(() => (hasExited = true))
  while (Date.now() < deadlineMs) {
    if (hasExited) throw new RedisServerError(`redis-server on port ${port} exited while starting: ${logTail()}`)
    // Refused until the server listens: try again after a pause.
    const client = await RespClient.connect(port, HOST).catch(() => null)
    if (client) {
      try {
        const reply = await client.call('PING')
        if (reply.kind === 'simple' && reply.value === 'PONG') return
      } finally {
        await client.close()
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  throw new RedisServerError(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms: ${logTail()}`)
}
