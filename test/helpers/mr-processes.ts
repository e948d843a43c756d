// Real-process harness for the MapReduce tests, after the lab's test-mr.sh: a job directory with
// the Gutenberg books, a coordinator and workers as `lograft mr` child processes (each killed if it
// outlives its time limit), the sorted output of a job, and the sequential reference output.

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
const BOOKS_DIRECTORY = fileURLToPath(new URL('../../../fixtures/gutenberg/', import.meta.url))
/** The lab's limit for one process. */
export const PROCESS_LIMIT_MS = 45_000
/** Keep only the end of a process's output, for failure messages. */
const MAX_OUTPUT_CHARS = 8000

/** The books' file names, as the job sees them in its directory (pg-*.txt, like the lab's inputs). */
export const BOOKS: readonly string[] = readdirSync(BOOKS_DIRECTORY)
  .filter((name) => /^pg-.*\.txt$/.test(name))
  .sort()

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  /** True if the harness killed it for outliving its limit. */
  overran: boolean
}

/** One `lograft ...` child process. */
export class MrProcess {
  readonly exited: Promise<Exit>
  stdout = ''
  stderr = ''
  private overran = false

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    limitMs: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout = (this.stdout + chunk.toString()).slice(-MAX_OUTPUT_CHARS)))
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-MAX_OUTPUT_CHARS)))
    const limit = setTimeout(() => {
      this.overran = true
      child.kill('SIGKILL')
    }, limitMs)
    this.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        clearTimeout(limit)
        resolve({ code, signal, overran: this.overran })
      }),
    )
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Runs `listener` synchronously the moment the process is seen to exit (before stdio closes). */
  onExit(listener: () => void): void {
    this.child.once('exit', listener)
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL')
  }

  /** Sends SIGINT, as Ctrl-C would. */
  interrupt(): void {
    this.child.kill('SIGINT')
  }

  describe(exit: Exit): string {
    const how = exit.overran ? 'killed after its time limit' : exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`
    return `${this.name}: ${how}\n${this.stderr.trimEnd()}`
  }
}

/** A job directory in tmp holding the books, and the processes started in it (all killed at teardown). */
export class MrJob {
  readonly directory: string
  readonly processes: MrProcess[] = []

  constructor(t: Test) {
    this.directory = mkdtempSync(join(tmpdir(), 'lograft-mr-'))
    for (const book of BOOKS) symlinkSync(join(BOOKS_DIRECTORY, book), join(this.directory, book))
    t.teardown(async () => {
      for (const process of this.processes) process.kill()
      await Promise.all(this.processes.map((process) => process.exited))
      rmSync(this.directory, { recursive: true, force: true })
    })
  }

  /** Starts `lograft ARGS...` in the job directory, with `env` added to this process's environment. */
  lograft(name: string, args: readonly string[], limitMs = PROCESS_LIMIT_MS, env: NodeJS.ProcessEnv = {}): MrProcess {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: this.directory, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    const started = new MrProcess(name, child, limitMs)
    this.processes.push(started)
    return started
  }

  /** Starts a coordinator (by default on a free loopback port) and resolves with it and its address. */
  async coordinator(args: readonly string[], limitMs = PROCESS_LIMIT_MS, listen = '127.0.0.1:0'): Promise<{ process: MrProcess; address: string }> {
    const coordinator = this.lograft('coordinator', ['mr', 'coordinator', '--listen', listen, ...args], limitMs)
    const address = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const match = /coordinator listening on (\S+)/.exec(coordinator.stdout)
        if (match) {
          clearInterval(poll)
          resolve(match[1] as string)
        }
      }, 20)
      void coordinator.exited.then((exit) => {
        clearInterval(poll)
        reject(new Error(`the coordinator exited before listening: ${coordinator.describe(exit)}`))
      })
    })
    return { process: coordinator, address }
  }

  worker(app: string, address: string, limitMs = PROCESS_LIMIT_MS): MrProcess {
    return this.lograft(`worker ${this.processes.length}`, ['mr', 'worker', '--app', app, '--coordinator', address], limitMs)
  }

  /** Every non-empty line of the mr-out-* files, sorted (the lab's `sort mr-out* | grep .`). */
  output(): string[] {
    return sortedLines(
      readdirSync(this.directory)
        .filter((name) => name.startsWith('mr-out'))
        .map((name) => readFileSync(join(this.directory, name), 'utf8'))
        .join(''),
    )
  }

  /** `lograft mr seq` of `app` on `books` in the job directory (the same file names as the job's), sorted. */
  async sequential(app: string, books: readonly string[] = BOOKS): Promise<string[]> {
    const out = `seq-${app}.out`
    const run = this.lograft(`mr seq --app ${app}`, ['mr', 'seq', '--app', app, '--out', out, ...books])
    const exit = await run.exited
    if (exit.code !== 0) throw new Error(run.describe(exit))
    const lines = sortedLines(readFileSync(join(this.directory, out), 'utf8'))
    rmSync(join(this.directory, out))
    return lines
  }
}

export function sortedLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .sort()
}

/** Asserts that every process exited on its own with code 0. */
export async function expectCleanExits(t: Test, processes: readonly MrProcess[]): Promise<void> {
  for (const process of processes) {
    const exit = await process.exited
    t.ok(exit.code === 0 && !exit.overran, `${process.name} exited cleanly`, { diagnostic: exit.code !== 0, details: process.describe(exit) })
  }
}
