// `lograft mr run`: a whole job on this machine. The coordinator runs in this process on a Unix
// socket of its own; the workers are `lograft mr worker` child processes, relaunched (a bounded
// number of times) if one dies before the job is done. When the job ends, workers that do not exit
// on their own (one stuck in a duplicate attempt) are killed.

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { quietLogger } from '../base/logger.js'
import { isBuiltinApp, loadApp } from '../mapreduce/app-loader.js'
import { type PeerAddress, formatAddress } from '../rpc/address.js'
import { JOB_FLAGS, jobSettings } from './mr-flags.js'
import { UsageError, parseFlags, requireInteger } from './usage.js'

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))
/** After the job, workers get this long to hear "exit" and leave before they are killed. */
const WORKER_EXIT_GRACE_MS = 2000
/** Keep only the end of a worker's stderr, for the error when workers keep dying. */
const MAX_STDERR_CHARS = 4000

export async function runLocalJob(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...JOB_FLAGS, app: { type: 'string' }, workers: { type: 'string' }, 'max-worker-restarts': { type: 'string' } },
  })
  if (!values.app) throw new UsageError('mr run needs --app (a built-in app such as wc, or a path to a module)')
  const workerCount = requireInteger('workers', values.workers, 4, 1)
  const maxRestarts = requireInteger('max-worker-restarts', values['max-worker-restarts'], 20)
  const settings = jobSettings(values, positionals)
  const app = isBuiltinApp(values.app) ? values.app : resolve(values.app)

  // The workers start first, before this process loads the coordinator, its transport and
  // protobufjs: each side takes a while to start, and one after the other, the first map waited
  // for both. The coordinator's address is a socket in a directory of its own, known before it
  // listens; a worker that comes first retries until it does.
  const socketDirectory = mkdtempSync(join(tmpdir(), 'lograft-mr-run-'))
  const address: PeerAddress = { host: '', port: 0, path: join(socketDirectory, 'coordinator.sock') }
  const workers = new LocalWorkers(['mr', 'worker', '--app', app, '--coordinator', formatAddress(address), '--dir', settings.directory], maxRestarts)
  atExit(() => {
    workers.kill()
    rmSync(socketDirectory, { recursive: true, force: true })
  })
  try {
    workers.start(workerCount)
    const [{ coordinateJob, prepareJob }, { TcpTransport }] = await Promise.all([import('./mr-job.js'), import('../rpc/tcp-transport.js')])
    // The app is loaded here too, so a broken one is one clear error (and the workers are
    // stopped) instead of workers dying one after another.
    await prepareJob(settings)
    await loadApp(values.app)
    const transport = await TcpTransport.start({ self: 'coordinator', listen: address, logger: quietLogger })
    try {
      await coordinateJob(settings, transport, workers.allDied)
      await workers.stop(WORKER_EXIT_GRACE_MS)
    } finally {
      await transport.close()
    }
  } finally {
    await workers.stop(0)
  }
}

/**
 * Runs `cleanUp` (which must be synchronous) when this process exits, whether the job ended, failed,
 * or was interrupted: SIGINT and SIGTERM end the process through exit, with the status a shell gives
 * them, so no worker outlives it and its socket directory goes too. Only SIGKILL skips it.
 */
function atExit(cleanUp: () => void): void {
  process.once('exit', cleanUp)
  process.once('SIGINT', () => process.exit(130))
  process.once('SIGTERM', () => process.exit(143))
}

/** The job's worker processes: relaunched when one dies early, killed if they outstay the job. */
class LocalWorkers {
  /** Rejects if every worker has died and no relaunch is left. */
  readonly allDied: Promise<never>
  private readonly running = new Set<ChildProcess>()
  private restartsLeft: number
  private stopping = false
  private lastStderr = ''
  private fail: (error: Error) => void = () => {}

  constructor(
    private readonly args: readonly string[],
    maxRestarts: number,
  ) {
    this.restartsLeft = maxRestarts
    this.allDied = new Promise<never>((_, reject) => (this.fail = reject))
    this.allDied.catch(() => {})
  }

  start(count: number): void {
    for (let i = 0; i < count; i++) this.launch()
  }

  /** Kills every worker still running, at once. */
  kill(): void {
    this.stopping = true
    for (const child of this.running) child.kill('SIGKILL')
  }

  /** Waits up to `graceMs` for the workers to exit, then kills the rest. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    const exits = [...this.running].map((child) => new Promise((resolve) => child.once('close', resolve)))
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.all(exits), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))])
      clearTimeout(timer)
    }
    this.kill()
    await Promise.all(exits)
  }

  private launch(): void {
    const child = spawn(process.execPath, [MAIN, ...this.args], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.running.add(child)
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-MAX_STDERR_CHARS)))
    child.once('close', (code, signal) => {
      this.running.delete(child)
      if (this.stopping) return
      if (stderr !== '') this.lastStderr = stderr
      if (code !== 0 && this.restartsLeft > 0) {
        this.restartsLeft--
        this.launch()
      } else if (this.running.size === 0) {
        const how = signal ? `signal ${signal}` : `exit code ${code}`
        this.fail(
          new Error(
            `every worker has exited before the job was done (relaunches left: ${this.restartsLeft}); the last one ended with ${how}\n${this.lastStderr.trimEnd()}`,
          ),
        )
      }
    })
  }
}
