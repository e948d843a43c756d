// Crash test: a child process writes to a classic-level LogStore and is killed with SIGKILL at a
// random moment, again and again on the same directory. After every kill the reopened store must
// hold every acknowledged write plus some prefix of the unacknowledged ones, in issue order: group
// commit writes batches in order and each batch is atomic, so nothing else can be durable. The
// child records its writes in a file that a kill cannot cut short (see log-writer-record.ts).
//
// CRASH_KILLS=n sets the kills per seed (default 24); with SEEDS it soaks (TAP_TIMEOUT=0 lifts
// tap's 30 s limit on a file), e.g.
//   SEEDS=100 CRASH_KILLS=200 TAP_TIMEOUT=0 nice -n 15 node dist/test/log-crash.test.js
// A failing seed keeps its directory (the store and every run's record) and names it.

import { join } from 'node:path'
import t, { type Test } from 'tap'
import { openDiskLog } from '../src/log/index.js'
import { Rng } from '../src/base/rng.js'
import { countFrom, seedsFor } from '../src/sim/seeds.js'
import { makeTempDir } from './helpers/log.js'
import { readDurableState } from '../src/testing/durable-state.js'
import { EMPTY_MODEL, applyOp, durablePrefix, mismatch, type LogModel, type WriterOp } from './helpers/log-model.js'
import { WriterLineup } from './helpers/log-writer-process.js'
import { readWriterRecord } from './helpers/log-writer-record.js'

const KILLS = countFrom(process.env, 'CRASH_KILLS', 24)
/** Every few runs the kill lands while the child is still opening or recovering the store. */
const STARTUP_KILL_EVERY = 6
const MIN_KILL_DELAY_MS = 20
const MAX_KILL_DELAY_MS = 300
const MAX_STARTUP_KILL_DELAY_MS = 60
/** Children loading their modules while one runs: loading takes longer than most runs. */
const WRITERS_STARTED_AHEAD = 2

interface Totals {
  ackedWrites: number
  ackedTruncations: number
  ackedSnapshots: number
  killsWithWritesInFlight: number
  unackedWritesFoundDurable: number
}

/** `model` after the acknowledged writes `ops`, counting the kinds the test must have exercised. */
function foldAcknowledged(model: LogModel, ops: readonly WriterOp[], totals: Totals): LogModel {
  let folded = model
  for (const op of ops) {
    if (op.kind === 'append' && op.from <= (folded.entries.at(-1)?.index ?? 0)) totals.ackedTruncations++
    if (op.kind === 'snapshot') totals.ackedSnapshots++
    folded = applyOp(folded, op)
  }
  totals.ackedWrites += ops.length
  return folded
}

/** Checks the reopened store after one run; the model it now holds, or null after a failure. */
async function checkRun(t: Test, label: string, recordPath: string, storePath: string, model: LogModel, totals: Totals): Promise<LogModel | null> {
  const writer = readWriterRecord(recordPath)
  t.ok(writer.ackedInOrder, `${label}: writes were acknowledged in issue order`)
  const store = await openDiskLog(storePath)
  const durable = await readDurableState(store)
  await store.close()

  const acknowledged = foldAcknowledged(model, writer.issued.slice(0, writer.acked), totals)
  const unacknowledged = writer.issued.slice(writer.acked)
  const match = durablePrefix(durable, acknowledged, unacknowledged)
  if (match === null) {
    t.fail(
      `${label}: durable state is no prefix of the ${writer.issued.length} issued writes (${writer.acked} acknowledged); ` +
        `against the acknowledged ones alone: ${mismatch(durable, acknowledged)}; ` +
        `against all issued: ${mismatch(durable, unacknowledged.reduce(applyOp, acknowledged))}; ` +
        `the unacknowledged writes: ${JSON.stringify(unacknowledged)}`,
    )
    return null
  }
  t.pass(`${label}: ${writer.acked} acknowledged + ${match.count} of ${unacknowledged.length} unacknowledged writes are durable`)
  totals.unackedWritesFoundDurable += match.count
  if (unacknowledged.length > 0) totals.killsWithWritesInFlight++
  return match.model
}

for (const seed of seedsFor('log crash test', process.env)) {
  t.test(`a writer killed ${KILLS} times loses no acknowledged write and leaves no partial one (seed ${seed})`, async (t) => {
    const directory = makeTempDir('log-crash')
    t.teardown(() => void (t.passing() && directory.remove()))
    const storePath = join(directory.path, 'store')
    const recordPath = (run: number): string => join(directory.path, `run-${run}.writes`)
    const replay = `replay with SEED=${seed} CRASH_KILLS=${KILLS} (kill timing still varies)`
    const rng = new Rng(seed)
    const writers = new WriterLineup(storePath, recordPath, KILLS, () => rng.uint32(), WRITERS_STARTED_AHEAD)
    const totals: Totals = { ackedWrites: 0, ackedTruncations: 0, ackedSnapshots: 0, killsWithWritesInFlight: 0, unackedWritesFoundDurable: 0 }
    let model: LogModel | null = EMPTY_MODEL
    try {
      for (let run = 0; run < KILLS; run++) {
        const writer = writers.next()
        const duringStartup = run % STARTUP_KILL_EVERY === STARTUP_KILL_EVERY - 1
        const killDelayMs = duringStartup ? rng.intBetween(0, MAX_STARTUP_KILL_DELAY_MS) : rng.intBetween(MIN_KILL_DELAY_MS, MAX_KILL_DELAY_MS)
        const exit = await writer.child.run(killDelayMs, duringStartup)
        const label = `run ${run} (writer seed ${writer.seed}), killed ${killDelayMs} ms after ${duringStartup ? 'the go' : 'ready'}`
        t.equal(exit.signal, 'SIGKILL', `${label}: the writer ran until killed ${exit.stderr}`)
        model = await checkRun(t, label, recordPath(run), storePath, model, totals)
        if (model === null) {
          t.comment(`the store and every run's record are kept in ${directory.path}; ${replay}`)
          return
        }
      }
    } finally {
      await writers.discard()
    }
    t.comment(`totals: ${JSON.stringify(totals)}`)
    t.ok(totals.ackedWrites >= 100, `the writers got ${totals.ackedWrites} writes acknowledged; ${replay}`)
    t.ok(totals.ackedTruncations >= 1, 'some acknowledged appends truncated the log')
    t.ok(totals.ackedSnapshots >= 1, 'some snapshots were acknowledged')
    t.ok(totals.killsWithWritesInFlight >= 1, 'some kills landed with writes in flight')
  })
}
