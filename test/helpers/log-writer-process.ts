// The crash test's writer child as seen from the parent. A child is started one run ahead: loading
// its modules is most of its startup, so it does that while the previous child writes and is
// killed, says "loaded", and waits until run() tells it to open the store. A kill timed "during
// startup" lands while the store is being opened and recovered rather than while modules load.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CHILD_PATH = fileURLToPath(new URL('../fixtures/log-writer-child.js', import.meta.url))

export interface WriterExit {
  readonly signal: NodeJS.Signals | null
  /** The child's stderr, and the spawn error if there was one. */
  readonly stderr: string
}

export class WriterChild {
  private readonly child: ChildProcessWithoutNullStreams
  private stderr = ''
  private stdout = ''
  private onReady: (() => void) | null = null
  private readonly loaded: Promise<void>
  private readonly exited: Promise<WriterExit>

  /** Starts a writer of `storeDirectory` that records its writes in `recordPath` (a new file). */
  constructor(storeDirectory: string, recordPath: string, run: number, seed: number) {
    this.child = spawn(process.execPath, [CHILD_PATH, storeDirectory, recordPath, String(run), String(seed)])
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()))
    // Read even when nobody waits for "ready": a child's unread output would hold back its 'close'.
    this.loaded = new Promise((resolve) => {
      this.child.stdout.on('data', (chunk: Buffer) => {
        const lines = (this.stdout + chunk.toString()).split('\n')
        this.stdout = lines.pop() ?? ''
        for (const line of lines) {
          if (line === 'loaded') resolve()
          else if (line === 'ready') this.onReady?.()
        }
      })
    })
    // The go reaches a child that died while loading as EPIPE; its exit says what happened.
    this.child.stdin.on('error', (error) => (this.stderr += `stdin: ${error.message}`))
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => (this.stderr += `spawn failed: ${error.message}`))
      this.child.on('close', (_code, signal) => resolve({ signal, stderr: this.stderr }))
    })
  }

  /**
   * Once the child has loaded, lets it open the store and kills it `killDelayMs` after it is ready,
   * or after the go when `duringStartup`. Resolves once the child has exited.
   */
  async run(killDelayMs: number, duringStartup: boolean): Promise<WriterExit> {
    const exitedWhileLoading = await Promise.race([this.loaded.then(() => null), this.exited])
    if (exitedWhileLoading) return exitedWhileLoading
    const kill = (): void => void setTimeout(() => this.child.kill('SIGKILL'), killDelayMs)
    if (duringStartup) kill()
    else this.onReady = kill
    this.child.stdin.write('go\n')
    return this.exited
  }

  /** Ends a child that will not get its run; resolves once it has exited. */
  discard(): Promise<WriterExit> {
    this.child.kill('SIGKILL')
    return this.exited
  }
}

/**
 * Writer children for runs 0..runs-1 on one store, each started `ahead` runs before its turn. Seeds
 * are drawn as children start, so one seed source gives every run the same writer seed each time.
 */
export class WriterLineup {
  private readonly started: Array<{ child: WriterChild; seed: number }> = []
  private nextRun = 0

  constructor(
    private readonly storeDirectory: string,
    private readonly recordPath: (run: number) => string,
    private readonly runs: number,
    private readonly nextSeed: () => number,
    ahead: number,
  ) {
    for (let i = 0; i < ahead; i++) this.startOne()
  }

  /** The child for the next run, with its seed; starts the one `ahead` runs later. */
  next(): { child: WriterChild; seed: number } {
    const turn = this.started.shift()
    if (turn === undefined) throw new RangeError(`all ${this.runs} writers have had their run`)
    this.startOne()
    return turn
  }

  /** Ends the children still waiting for their run. */
  async discard(): Promise<void> {
    await Promise.all(this.started.splice(0).map(({ child }) => child.discard()))
  }

  private startOne(): void {
    const run = this.nextRun++
    const seed = this.nextSeed()
    if (run < this.runs) this.started.push({ child: new WriterChild(this.storeDirectory, this.recordPath(run), run, seed), seed })
  }
}
