// Runs local lograft processes for tests and demos: starts each with its arguments, waits until it
// reports ready, kills it (SIGKILL: no chance to clean up) and restarts it, keeps its recent log,
// and stops them all cleanly. What crash/restart tests of a real cluster are built on.

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The lograft command line, run as `node MAIN ...`. */
const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url))
/** Error output kept of a process that is starting, for the error that says why it did not. */
const MAX_KEPT_ERROR_CHARS = 20_000

/** A process for ProcessSupervisor.start. */
export interface ProcessSpec {
  /** Unique among the supervisor's processes. */
  readonly id: string
  /** The arguments after `lograft` (without --supervised, which the supervisor adds). */
  readonly args: readonly string[]
  /** Options for Node itself, before the script (V8's heap sizes, say); none by default. */
  readonly nodeOptions?: readonly string[]
  /** A line of standard output that contains this says the process is ready. */
  readonly readyText: string
  /** Created before the process starts. */
  readonly dataDirectory: string
}

/** A process exited before it reported ready; the message carries its error output. */
export class NodeStartError extends Error {
  readonly code = 'ERR_NODE_START'
}

/** `lastError` is the last line the process wrote to stderr (a failed node says why there), if any. */
export type ExitListener = (id: string, code: number | null, signal: NodeJS.Signals | null, lastError: string | null) => void

/**
 * Runs `lograft` processes for tests and demos, with the running Node and the CLI this package
 * ships: starts each and waits until it reports ready, kills it and restarts it, keeps its recent
 * stderr, and stops them all. What LocalMachineCluster is built on. `onExit` hears of every exit
 * of a process that had become ready, kill's and stopAll's included; a process that exits before
 * that rejects start instead.
 */
export class ProcessSupervisor {
  private readonly processes = new Map<string, ChildProcess>()
  /** The recent error output of each process started, kept after it exits. */
  private readonly errorOutput = new Map<string, string>()

  constructor(private readonly onExit: ExitListener = () => {}) {}

  /** Starts a process and resolves once it reports ready; rejects with its error output if it exits first. */
  start(spec: ProcessSpec): Promise<void> {
    mkdirSync(spec.dataDirectory, { recursive: true })
    const child = spawn(process.execPath, ['--enable-source-maps', ...(spec.nodeOptions ?? []), MAIN, ...spec.args, '--supervised'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.processes.set(spec.id, child)
    return new Promise((resolve, reject) => {
      let errors = ''
      let ready = false
      child.stderr.on('data', (chunk: Buffer) => {
        errors += chunk.toString()
        if (errors.length > MAX_KEPT_ERROR_CHARS) errors = errors.slice(-MAX_KEPT_ERROR_CHARS / 2)
        this.errorOutput.set(spec.id, errors)
      })
      child.stdout.on('data', (chunk: Buffer) => {
        if (!ready && chunk.toString().includes(spec.readyText)) {
          ready = true
          resolve()
        }
      })
      child.on('exit', (code, signal) => {
        if (this.processes.get(spec.id) === child) this.processes.delete(spec.id)
        if (!ready) reject(new NodeStartError(`${spec.id} exited before it was ready (${signal ?? `code ${code}`}): ${errors.trim()}`))
        else this.onExit(spec.id, code, signal, errors.trim().split('\n').pop() || null)
      })
    })
  }

  /** SIGKILL: the process gets no chance to clean up. */
  kill(id: string): Promise<void> {
    return this.signal(id, 'SIGKILL')
  }

  /** SIGSTOP: the process freezes (a hung machine, a long GC pause) until resume(). */
  suspend(id: string): void {
    this.processes.get(id)?.kill('SIGSTOP')
  }

  /** SIGCONT: a suspended process runs on. */
  resume(id: string): void {
    this.processes.get(id)?.kill('SIGCONT')
  }

  /** Stops every process with SIGTERM and waits for them to exit. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.signal(id, 'SIGTERM')))
  }

  /** Whether process `id` has been started and has not exited (it may not be ready yet). */
  isRunning(id: string): boolean {
    return this.processes.has(id)
  }

  /** The operating system's id of process `id`, while it runs (to read its /proc entries, say); null otherwise. */
  pid(id: string): number | null {
    return this.processes.get(id)?.pid ?? null
  }

  /** The last few KiB a process (its latest run) wrote to stderr: its log. */
  recentErrorOutput(id: string): string {
    return this.errorOutput.get(id) ?? ''
  }

  private signal(id: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.processes.get(id)
    if (!child) return Promise.resolve()
    return new Promise((resolve) => {
      child.once('exit', () => resolve())
      child.kill(signal)
    })
  }
}
