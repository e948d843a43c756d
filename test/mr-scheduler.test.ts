// The MapReduce scheduler on its own, on virtual time: workers' requests and reports are fed in
// message by message, so each scenario reads as the coordinator's decisions play out. The last
// tests run the Coordinator shell over the simulated network with workers that speak the protocol.
import t from 'tap'
import { Coordinator } from '../src/mapreduce/coordinator.js'
import { decodeAssignment, encodeReport, reportTaskMethod, requestTaskMethod } from '../src/mapreduce/protocol.js'
import { Scheduler, type SchedulerOptions } from '../src/mapreduce/scheduler.js'
import type { Assignment, TaskAssignment, TaskReport } from '../src/mapreduce/types.js'
import { invoke } from '../src/rpc/service.js'
import { sleep } from '../src/base/clock.js'
import { VirtualClock } from '../src/sim/virtual-clock.js'
import { SimWorld } from '../src/sim/world.js'

const FILES = ['a.txt', 'b.txt', 'c.txt']

function scheduler(options: Partial<SchedulerOptions> = {}): { scheduler: Scheduler; clock: VirtualClock } {
  return { scheduler: new Scheduler({ inputFiles: FILES, nReduce: 2, ...options }), clock: new VirtualClock() }
}

function task(assignment: Assignment): TaskAssignment {
  if (assignment.kind !== 'map' && assignment.kind !== 'reduce') throw new Error(`expected a task, got ${assignment.kind}`)
  return assignment
}

function done(workerId: string, assignment: Assignment, app: Record<string, number> = {}): TaskReport {
  const { kind, task: index, attempt } = task(assignment)
  return { workerId, kind, task: index, attempt, ok: true, counters: { framework: { 'map input files': kind === 'map' ? 1 : 0 }, app } }
}

function failed(workerId: string, assignment: Assignment, badRecord: string | null): TaskReport {
  const { kind, task: index, attempt } = task(assignment)
  return { workerId, kind, task: index, attempt, ok: false, error: 'boom', badRecord }
}

/** Runs every task of the current phase to completion on worker w. */
function finishPhase(s: Scheduler, nowMs: number): void {
  for (let assignment = s.request('w', nowMs); assignment.kind === 'map' || assignment.kind === 'reduce'; assignment = s.request('w', nowMs)) {
    s.report(done('w', assignment), nowMs)
    if (s.phase !== assignment.kind) return
  }
}

t.test('without sizes each input file is one map task; reduce tasks go out only once every map is done', async (t) => {
  const { scheduler: s, clock } = scheduler()
  const maps = ['w1', 'w2', 'w3'].map((worker) => task(s.request(worker, clock.now())))
  t.same(
    maps.map((m) => (m.kind === 'map' ? m.inputs : [])),
    FILES.map((inputFile) => [{ inputFile }]),
  )
  t.same(maps[0], { kind: 'map', task: 0, attempt: 1, inputs: [{ inputFile: 'a.txt' }], nReduce: 2, skipRecords: [] })
  t.same(s.request('w4', clock.now()), { kind: 'wait' }, 'no idle map, and reduces must wait for the maps')
  s.report(done('w1', maps[0] as Assignment), clock.now())
  s.report(done('w2', maps[1] as Assignment), clock.now())
  t.same(s.request('w1', clock.now()), { kind: 'wait' }, 'one map still running')
  s.report(done('w3', maps[2] as Assignment), clock.now())
  t.equal(s.phase, 'reduce')
  t.same(s.request('w1', clock.now()), { kind: 'reduce', task: 0, attempt: 1, nMap: 3, skipRecords: [] })
  t.same(
    s.takeEvents().filter((e) => e.type === 'phase'),
    [{ type: 'phase', phase: 'reduce' }],
  )
})

t.test('a task not reported within the timeout goes to another worker; the late first attempt may still finish it', async (t) => {
  const { scheduler: s, clock } = scheduler({ inputFiles: ['only.txt'], taskTimeoutMs: 10_000 })
  const first = s.request('slow', clock.now())
  await clock.advance(9_999)
  s.tick(clock.now())
  t.same(s.request('w2', clock.now()), { kind: 'wait' }, 'not yet timed out')
  await clock.advance(1)
  s.tick(clock.now())
  const second = task(s.request('w2', clock.now()))
  t.equal(second.attempt, 2, 'handed out again as attempt 2')
  s.report(done('slow', first, { seen: 1 }), clock.now())
  t.equal(s.phase, 'reduce', 'the late report of attempt 1 completes the map')
  s.report(done('w2', second, { seen: 1 }), clock.now())
  const status = s.status()
  t.equal(status.timedOut, 1)
  t.equal(status.reexecutions, 1)
  t.equal(status.duplicates, 1, 'the second finish is a duplicate')
  t.same(status.counters.app, { seen: 1 }, 'counters come from the attempt that finished the task, once')
})

t.test('every request is told to exit once the last reduce is done, and not before', async (t) => {
  const { scheduler: s, clock } = scheduler()
  finishPhase(s, clock.now())
  t.equal(s.phase, 'reduce')
  const r0 = s.request('a', clock.now())
  const r1 = s.request('b', clock.now())
  s.report(done('a', r0), clock.now())
  t.same(s.request('a', clock.now()), { kind: 'wait' }, 'reduce 1 is still running')
  s.report(done('b', r1), clock.now())
  t.equal(s.phase, 'done')
  t.same(s.request('a', clock.now()), { kind: 'exit' })
  t.same(s.request('new', clock.now()), { kind: 'exit' })
  t.same(s.status().counters.framework, { 'map input files': 3 })
})

t.test('backup tasks are off by default; on, an idle worker at the end of a phase backs up the longest-running task', async (t) => {
  const off = scheduler({ inputFiles: ['x', 'y'] })
  off.scheduler.request('w1', 0)
  off.scheduler.request('w2', 0)
  await off.clock.advance(5000)
  t.same(off.scheduler.request('w3', off.clock.now()), { kind: 'wait' }, 'no backups unless asked for')

  const { scheduler: s, clock } = scheduler({ inputFiles: ['x', 'y', 'z'], backupTasks: true, backupAfterMs: 1000 })
  const x = s.request('w1', clock.now())
  await clock.advance(100)
  const y = s.request('w2', clock.now())
  const z = s.request('w3', clock.now())
  s.report(done('w3', z), clock.now())
  t.same(s.request('w3', clock.now()), { kind: 'wait' }, 'the running attempts are too young for a backup')
  await clock.advance(1000)
  const backup = task(s.request('w3', clock.now()))
  t.match(backup, { kind: 'map', task: 0, attempt: 2 }, 'the oldest attempt (x, on w1) is backed up first')
  const backupOfY = task(s.request('w4', clock.now()))
  t.match(backupOfY, { kind: 'map', task: 1, attempt: 2 })
  t.same(s.request('w5', clock.now()), { kind: 'wait' }, 'one backup per task')
  s.report(done('w3', backup), clock.now())
  s.report(done('w1', x), clock.now())
  s.report(done('w2', y), clock.now())
  t.equal(s.phase, 'reduce')
  const status = s.status()
  t.equal(status.backups, 2)
  t.equal(status.duplicates, 1, 'the primary of x finished after its backup and was ignored')
  t.same(
    s
      .takeEvents()
      .filter((e) => e.type === 'assigned' && e.backup)
      .map((e) => (e.type === 'assigned' ? e.task : -1)),
    [0, 1],
  )
})

t.test('skipping bad records: a record that made a task fail twice is skipped on the next attempt', async (t) => {
  const { scheduler: s, clock } = scheduler({ skipBadRecords: true })
  finishPhase(s, clock.now())
  const first = s.request('w', clock.now())
  s.report(failed('w', first, 'poison'), clock.now())
  const second = task(s.request('w', clock.now()))
  t.same(second.skipRecords, [], 'one failure is not enough to skip')
  s.report(failed('w', second, 'poison'), clock.now())
  const third = task(s.request('w', clock.now()))
  t.same(third.skipRecords, ['poison'])
  t.same(third.task, 0)
  s.report(done('w', third), clock.now())
  t.same(s.status().skipped, [{ kind: 'reduce', task: 0, record: 'poison' }])
  t.match(
    s.takeEvents().filter((e) => e.type === 'skipping'),
    [{ type: 'skipping', kind: 'reduce', task: 0, record: 'poison' }],
  )
})

t.test('without skipping, a task that keeps failing on a record fails the job, naming the task and the record', async (t) => {
  const { scheduler: s, clock } = scheduler({ maxTaskFailures: 3 })
  for (let i = 0; i < 3; i++) {
    const assignment = task(s.request('w', clock.now()))
    t.equal(assignment.task, 0, 'the failed task is handed out again first')
    s.report(failed('w', assignment, 'a.txt'), clock.now())
  }
  t.equal(s.phase, 'failed')
  t.match(s.status().failure, /map task 0 on record "a\.txt" failed 3 times \(skipping bad records is off\): boom/)
  t.same(s.request('w', clock.now()), { kind: 'exit' })
})

t.test('with skipping on, a task may skip only so many records before the job fails', async (t) => {
  const { scheduler: s, clock } = scheduler({ skipBadRecords: true, recordFailuresBeforeSkip: 1, maxSkippedRecordsPerTask: 2 })
  finishPhase(s, clock.now())
  for (const record of ['k1', 'k2', 'k3']) s.report(failed('w', s.request('w', clock.now()), record), clock.now())
  t.equal(s.phase, 'failed')
  t.match(s.status().failure, /reduce task 0 on record "k3" failed 1 times and the task has already skipped 2 records/)
})

t.test('packed map tasks: a timed-out task goes out again with all its files, and a bad file inside one is skipped alone', async (t) => {
  // 32 files of 10 bytes: 16 tasks (the minimum) of two consecutive files each.
  const files = Array.from({ length: 32 }, (_, index) => `book-${String(index).padStart(2, '0')}.txt`)
  const { scheduler: s, clock } = scheduler({ inputFiles: files, inputBytes: files.map(() => 10), skipBadRecords: true, taskTimeoutMs: 10_000 })
  t.equal(s.status().map.total, 16)
  const lost = task(s.request('vanishes', clock.now()))
  t.same(lost, { kind: 'map', task: 0, attempt: 1, inputs: [{ inputFile: 'book-00.txt' }, { inputFile: 'book-01.txt' }], nReduce: 2, skipRecords: [] })
  const poisoned = task(s.request('w', clock.now()))
  t.match(poisoned, { task: 1, inputs: [{ inputFile: 'book-02.txt' }, { inputFile: 'book-03.txt' }] })
  s.report(failed('w', poisoned, 'book-03.txt'), clock.now())
  const retried = task(s.request('w', clock.now()))
  t.match(retried, { task: 1, attempt: 2, skipRecords: [] }, 'the failed task is handed out again first, whole')
  s.report(failed('w', retried, 'book-03.txt'), clock.now())
  const skipping = task(s.request('w', clock.now()))
  t.same(
    skipping,
    { kind: 'map', task: 1, attempt: 3, inputs: [{ inputFile: 'book-02.txt' }, { inputFile: 'book-03.txt' }], nReduce: 2, skipRecords: ['book-03.txt'] },
    'the task keeps both files; the worker skips the bad one’s map call',
  )
  s.report(done('w', skipping), clock.now())

  await clock.advance(10_000)
  s.tick(clock.now())
  const rerun = task(s.request('w2', clock.now()))
  t.same(rerun, { ...lost, attempt: 2 }, 'the timed-out task goes to another worker with the same files')
  s.report(done('w2', rerun), clock.now())
  finishPhase(s, clock.now())
  t.equal(s.phase, 'reduce')
  t.same(task(s.request('w', clock.now())), { kind: 'reduce', task: 0, attempt: 1, nMap: 16, skipRecords: [] }, 'reduces read one file per map task')
  const status = s.status()
  t.same(status.skipped, [{ kind: 'map', task: 1, record: 'book-03.txt' }])
  t.equal(status.timedOut, 1)
})

t.test('reports for tasks or attempts that were never handed out are ignored', async (t) => {
  const { scheduler: s, clock } = scheduler()
  s.report({ workerId: 'x', kind: 'map', task: 7, attempt: 1, ok: true, counters: { framework: {}, app: {} } }, clock.now())
  s.report({ workerId: 'x', kind: 'map', task: 0, attempt: 1, ok: true, counters: { framework: {}, app: {} } }, clock.now())
  t.same(s.status().map, { total: 3, done: 0, running: 0 })
})

t.test('bad options are refused with what is wrong', async (t) => {
  t.throws(() => new Scheduler({ inputFiles: [], nReduce: 1 }), { code: 'ERR_MR_BAD_OPTION', message: /at least one input file/ })
  t.throws(() => new Scheduler({ inputFiles: ['a'], nReduce: 0 }), { code: 'ERR_MR_BAD_OPTION', message: /nReduce/ })
  t.throws(() => new Scheduler({ inputFiles: ['a'], nReduce: 1, taskTimeoutMs: 0 }), { code: 'ERR_MR_BAD_OPTION', message: /taskTimeoutMs/ })
})

/** A worker on the simulated network that speaks the protocol; `run` decides how long each task takes. */
async function protocolWorker(world: SimWorld, id: string, run: (assignment: TaskAssignment) => number | 'vanish'): Promise<string[]> {
  const { transport } = world.attachNode(id, ['coordinator'])
  const log: string[] = []
  for (;;) {
    const assignment = decodeAssignment(await invoke(transport, 'coordinator', requestTaskMethod, { workerId: id }, { timeoutMs: 5000 }))
    if (assignment.kind === 'exit') return log
    if (assignment.kind === 'wait') continue
    const durationMs = run(assignment)
    log.push(`${assignment.kind}${assignment.task}.${assignment.attempt}@${world.clock.now()}`)
    if (durationMs === 'vanish') return log
    await sleep(world.clock, durationMs)
    const report: TaskReport = {
      workerId: id,
      kind: assignment.kind,
      task: assignment.task,
      attempt: assignment.attempt,
      ok: true,
      counters: { framework: {}, app: {} },
    }
    await invoke(transport, 'coordinator', reportTaskMethod, encodeReport(report), { timeoutMs: 5000 })
  }
}

t.test('coordinator: a waiting worker gets a task the moment a timeout frees it, and the job ends after the last report', async (t) => {
  const world = new SimWorld({ seed: 1 })
  await world.run(
    async () => {
      const { transport } = world.attachNode('coordinator', [])
      const coordinator = Coordinator.start({ transport, inputFiles: ['a', 'b'], nReduce: 1, clock: world.clock, taskTimeoutMs: 3000, pollWaitMs: 500 })
      let finishedAtMs = -1
      void coordinator.finished.then(() => (finishedAtMs = world.clock.now()))
      // w1 takes map 0 and vanishes; w2 runs map 1, then waits until map 0 times out and takes it over.
      const w1 = protocolWorker(world, 'w1', () => 'vanish')
      await sleep(world.clock, 10)
      const w2 = protocolWorker(world, 'w2', () => 100)
      const [log1, log2] = await Promise.all([w1, w2])
      t.same(log1, ['map0.1@0'])
      t.equal(log2[0], 'map1.1@10')
      t.match(log2[1], /^map0\.2@3\d\d\d$/, 'map 0 re-run as attempt 2 right after the 3 s timeout')
      const takeoverMs = Number(log2[1]?.split('@')[1])
      t.ok(takeoverMs >= 3000 && takeoverMs <= 3000 + 100 + 20, `taken over at ${takeoverMs} ms, within a tick of the timeout`)
      t.equal(log2[2]?.startsWith('reduce0.1@'), true)
      const status = await coordinator.finished
      t.equal(status.phase, 'done')
      t.equal(status.timedOut, 1)
      t.ok(finishedAtMs > takeoverMs + 100, 'finished only after the reduce report')
      coordinator.stop()
    },
    { maxVirtualMs: 60_000 },
  )
})

t.test('coordinator: a job that fails rejects finished with ERR_MR_JOB_FAILED and tells workers to exit', async (t) => {
  const world = new SimWorld({ seed: 2 })
  await world.run(
    async () => {
      const { transport } = world.attachNode('coordinator', [])
      const coordinator = Coordinator.start({ transport, inputFiles: ['a'], nReduce: 1, clock: world.clock, maxTaskFailures: 2 })
      const { transport: worker } = world.attachNode('w', ['coordinator'])
      for (let i = 0; i < 2; i++) {
        const assignment = task(decodeAssignment(await invoke(worker, 'coordinator', requestTaskMethod, { workerId: 'w' })))
        await invoke(worker, 'coordinator', reportTaskMethod, encodeReport(failed('w', assignment, null)))
      }
      await t.rejects(coordinator.finished, { code: 'ERR_MR_JOB_FAILED', message: /map task 0 failed 2 times: boom/ })
      t.same(decodeAssignment(await invoke(worker, 'coordinator', requestTaskMethod, { workerId: 'w' })), { kind: 'exit' })
      coordinator.stop()
    },
    { maxVirtualMs: 60_000 },
  )
})
