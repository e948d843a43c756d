// Crash test: a child process writes to a classic-level LogStore and is killed with SIGKILL at a
// random moment, again and again on the same directory. After every kill the reopened store must
// hold every acknowledged write plus some prefix of the unacknowledged ones, in issue order: group
// commit writes batches in order and each batch is atomic, so nothing else can be durable.

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { openDiskLog } from '../src/log/index.js'
import { Rng } from '../src/base/rng.js'
import { seedsFor } from '../src/sim/seeds.js'
import { makeTempDir } from './helpers/log.js'
import { readDurableState } from '../src/testing/durable-state.js'
import { EMPTY_MODEL, applyOp, mismatch, type LogModel, type WriterOp } from './helpers/log-model.js'

const CHILD_PATH = fileURLToPath(new URL('./fixtures/log-writer-child.js', import.meta.url))
const KILLS = 24
/** Every few runs the kill lands while the child is still starting up or recovering. */
const STARTUP_KILL_EVERY = 6
const MIN_KILL_DELAY_MS = 20
const MAX_KILL_DELAY_MS = 300
const MAX_STARTUP_KILL_DELAY_MS = 60

interface ChildRun {
  readonly issued: WriterOp[]
  /** Acks arrive in issue order, so the acknowledged writes are the first `acked` issued ones. */
  readonly acked: number
  readonly ackedInOrder: boolean
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
}

/** Runs the writer on `directory` and kills it `killDelayMs` after it is ready (or after spawn). */
function runWriter(directory: string, run: number, seed: number, killDelayMs: number, duringStartup: boolean): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD_PATH, directory, String(run), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const kill = (): void => void setTimeout(() => child.kill('SIGKILL'), killDelayMs)
    if (duringStartup) kill()
    const issued: WriterOp[] = []
    let acked = 0
    let ackedInOrder = true
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (stdout + chunk.toString()).split('\n')
      stdout = lines.pop() ?? '' // A line cut off by the kill was never completed: ignore it.
      for (const line of lines) {
        const [word, seqText, json] = splitLine(line)
        if (word === 'ready' && !duringStartup) kill()
        else if (word === 'issue' && Number(seqText) === issued.length && json) issued.push(JSON.parse(json) as WriterOp)
        else if (word === 'ack') {
          ackedInOrder &&= Number(seqText) === acked
          acked++
        }
      }
    })
    child.on('error', reject)
    child.on('close', (_code, signal) => resolve({ issued, acked, ackedInOrder, signal, stderr }))
  })
}

function splitLine(line: string): [string, string, string] {
  const first = line.indexOf(' ')
  if (first < 0) return [line, '', '']
  const second = line.indexOf(' ', first + 1)
  if (second < 0) return [line.slice(0, first), line.slice(first + 1), '']
  return [line.slice(0, first), line.slice(first + 1, second), line.slice(second + 1)]
}

for (const seed of seedsFor('log crash test', process.env)) {
  t.test(`a writer killed ${KILLS} times loses no acknowledged write and leaves no partial one (seed ${seed})`, async (t) => {
    const directory = makeTempDir('log-crash')
    t.teardown(directory.remove)
    const rng = new Rng(seed)
    const replay = `replay with SEED=${seed} (kill timing still varies)`
    const totals = { ackedWrites: 0, ackedTruncations: 0, ackedSnapshots: 0, killsWithWritesInFlight: 0, unackedWritesFoundDurable: 0 }
    let model: LogModel = EMPTY_MODEL
    for (let run = 0; run < KILLS; run++) {
      const duringStartup = run % STARTUP_KILL_EVERY === STARTUP_KILL_EVERY - 1
      const killDelayMs = duringStartup ? rng.intBetween(0, MAX_STARTUP_KILL_DELAY_MS) : rng.intBetween(MIN_KILL_DELAY_MS, MAX_KILL_DELAY_MS)
      const writer = await runWriter(directory.path, run, rng.uint32(), killDelayMs, duringStartup)
      const label = `run ${run}, killed ${killDelayMs} ms after ${duringStartup ? 'spawn' : 'ready'}`
      t.equal(writer.signal, 'SIGKILL', `${label}: the writer ran until killed ${writer.stderr}`)
      t.ok(writer.ackedInOrder, `${label}: writes were acknowledged in issue order`)

      const store = await openDiskLog(directory.path)
      const durable = await readDurableState(store)
      await store.close()

      // Fold the acknowledged writes, then as many unacknowledged ones as the store turns out to hold.
      let expected = model
      for (const op of writer.issued.slice(0, writer.acked)) {
        if (op.kind === 'append' && op.from <= (expected.entries.at(-1)?.index ?? 0)) totals.ackedTruncations++
        if (op.kind === 'snapshot') totals.ackedSnapshots++
        expected = applyOp(expected, op)
      }
      let durableCount = writer.acked
      while (mismatch(durable, expected) !== null && durableCount < writer.issued.length) {
        expected = applyOp(expected, writer.issued[durableCount] as WriterOp)
        durableCount++
      }
      const problem = mismatch(durable, expected)
      if (problem !== null) {
        const ackedOnly = writer.issued.slice(0, writer.acked).reduce(applyOp, model)
        t.fail(
          `${label}: durable state is no prefix of the ${writer.issued.length} issued writes (${writer.acked} acknowledged); ` +
            `against the acknowledged ones alone: ${mismatch(durable, ackedOnly)}; ` +
            `against all issued: ${mismatch(durable, expected)}; the unacknowledged writes: ${JSON.stringify(writer.issued.slice(writer.acked))}; ${replay}`,
        )
        return
      }
      t.pass(
        `${label}: ${writer.acked} acknowledged + ${durableCount - writer.acked} of ${writer.issued.length - writer.acked} unacknowledged writes are durable`,
      )
      totals.ackedWrites += writer.acked
      totals.unackedWritesFoundDurable += durableCount - writer.acked
      if (writer.issued.length > writer.acked) totals.killsWithWritesInFlight++
      model = expected
    }
    t.comment(`totals: ${JSON.stringify(totals)}`)
    t.ok(totals.ackedWrites >= 100, `the writers got ${totals.ackedWrites} writes acknowledged; ${replay}`)
    t.ok(totals.ackedTruncations >= 1, 'some acknowledged appends truncated the log')
    t.ok(totals.ackedSnapshots >= 1, 'some snapshots were acknowledged')
    t.ok(totals.killsWithWritesInFlight >= 1, 'some kills landed with writes in flight')
  })
}
