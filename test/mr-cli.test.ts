// `lograft mr` as a user meets it: the summary and progress of a local run, and bad input — a
// missing file, an app that does not load or is not an app, an unreachable coordinator, a wrong
// flag — each refused with one clear message and a non-zero exit, never a hang.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { JobProgress } from '../src/cli/mr-progress.js'
import { Scheduler } from '../src/mapreduce/scheduler.js'
import { eventually } from './helpers/kv-processes.js'
import { BOOKS, MrJob, expectCleanExits } from './helpers/mr-processes.js'
import { freePorts } from './helpers/raft-processes.js'

/** Bad input must be refused well within this. */
const REFUSAL_LIMIT_MS = 15_000
const NOT_AN_APP = fileURLToPath(new URL('./fixtures/mr-not-an-app.js', import.meta.url))

t.test('mr run prints a line per finished task when not on a terminal, then a summary of tasks, re-executions, counters, time and outputs', async (t) => {
  const job = new MrJob(t)
  const run = job.lograft('mr run', ['mr', 'run', '--app', 'wc', '--reduce', '3', '--workers', '2', '--dir', 'out', ...BOOKS])
  await expectCleanExits(t, [run])
  t.match(run.stdout, /^ +\d+\.\d s {2}map task \d done by \S+ in \d+\.\d s \(map 1\/8\)$/m)
  t.match(run.stdout, /all map tasks done; reducing/)
  t.match(run.stdout, /reduce task \d done by .* \(reduce 3\/3\)/)
  t.match(run.stdout, /job done in \d+\.\d\d s\n/)
  t.match(run.stdout, / {2}tasks +8 map, 3 reduce, run by 2 workers\n/)
  t.match(run.stdout, / {2}re-executions +0 \(0 timed out, 0 failed, 0 backups; 0 duplicate finishes ignored\)\n/)
  t.match(run.stdout, /map input files +8\n/)
  t.match(run.stdout, /reduce output records +22107\n/)
  t.match(run.stdout, new RegExp(` {2}output +mr-out-0 … mr-out-2 \\(3 files in ${job.directory}/out\\)\\n`))
})

t.test('on a terminal the progress is one line redrawn in place, with a bar for map and for reduce tasks', async (t) => {
  const written: string[] = []
  let nowMs = 0
  const progress = new JobProgress({ isTTY: true, write: (text: string) => written.push(text) }, () => nowMs, 0)
  const scheduler = new Scheduler({ inputFiles: ['a', 'b', 'c', 'd'], nReduce: 2 })
  const assignment = scheduler.request('w', 0)
  if (assignment.kind !== 'map') throw new Error('expected a map task')
  nowMs = 1500
  scheduler.report({ workerId: 'w', kind: 'map', task: 0, attempt: 1, ok: true, counters: { framework: {}, app: {} } }, nowMs)
  for (const event of scheduler.takeEvents()) progress.onEvent(event, scheduler.status())
  progress.finish(scheduler.status())
  t.equal(written[0], '\r\x1b[2Kmap [#####---------------] 1/4  reduce [--------------------] 0/2  running 0  re-executed 0  1.5 s')
  t.equal(written.at(-1), '\n', 'finish ends the line')
})

t.test('a coordinator and a worker can meet on a Unix socket instead of TCP, and the socket is gone after the job', async (t) => {
  const job = new MrJob(t)
  const socket = join(job.directory, 'coordinator.sock')
  const { process: coordinator, address } = await job.coordinator(['--reduce', '3', ...BOOKS], REFUSAL_LIMIT_MS, `unix:${socket}`)
  t.equal(address, `unix:${socket}`)
  await expectCleanExits(t, [coordinator, job.worker('wc', address)])
  t.same(job.output(), await job.sequential('wc'))
  t.notOk(existsSync(socket), 'the coordinator removed its socket')
})

t.test("mr run's coordinator socket lives in a temporary directory that goes when the job ends or is interrupted", async (t) => {
  const job = new MrJob(t)
  const temporary = mkdtempSync(join(tmpdir(), 'lograft-mr-cli-tmp-'))
  t.teardown(() => rmSync(temporary, { recursive: true, force: true }))
  const socketDirectories = (): string[] => readdirSync(temporary).filter((name) => name.startsWith('lograft-mr-run-'))
  const finished = job.lograft('mr run', ['mr', 'run', '--app', 'wc', '--workers', '1', '--dir', 'finished', BOOKS[0] as string], REFUSAL_LIMIT_MS, {
    TMPDIR: temporary,
  })
  await expectCleanExits(t, [finished])
  t.same(socketDirectories(), [], 'gone after the job')

  const interrupted = job.lograft('mr run', ['mr', 'run', '--app', 'wc', '--workers', '1', '--dir', 'interrupted', ...BOOKS], REFUSAL_LIMIT_MS, {
    TMPDIR: temporary,
  })
  // Once a map task is done, the workers are up and talking to the coordinator through the socket.
  await eventually(() => /map task \d done/.test(interrupted.stdout) || !interrupted.running)
  t.equal(socketDirectories().length, 1, 'there while the job runs')
  t.equal(processesNaming(temporary).length, 1, 'its worker is found by the socket on its command line')
  interrupted.interrupt()
  t.equal((await interrupted.exited).code, 130, 'SIGINT ends it with the status a shell gives SIGINT')
  t.same(socketDirectories(), [], 'gone after SIGINT')
  t.same(processesNaming(temporary), [], 'and its worker with it')
})

/** The ids of the processes whose command line mentions `text` (Linux's /proc). */
function processesNaming(text: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)
      } catch {
        return false // it exited meanwhile
      }
    })
    .map(Number)
}

t.test('a missing input file is refused, naming it, by run, coordinator and seq', async (t) => {
  const job = new MrJob(t)
  const runs = [
    job.lograft('run', ['mr', 'run', '--app', 'wc', BOOKS[0] as string, 'no-such-book.txt'], REFUSAL_LIMIT_MS),
    job.lograft('coordinator', ['mr', 'coordinator', '--listen', '127.0.0.1:0', 'no-such-book.txt'], REFUSAL_LIMIT_MS),
    job.lograft('seq', ['mr', 'seq', '--app', 'wc', 'no-such-book.txt'], REFUSAL_LIMIT_MS),
  ]
  for (const run of runs) {
    const exit = await run.exited
    t.equal(exit.code, 1, `${run.name}: exit code 1`)
    t.equal(run.stderr, 'lograft: input file no-such-book.txt does not exist\n', `${run.name}: one clear line`)
  }
})

t.test('an app module that does not load, or lacks map or reduce, is refused with what is wrong', async (t) => {
  const job = new MrJob(t)
  const missing = job.lograft('missing', ['mr', 'run', '--app', './no-such-app.js', ...BOOKS], REFUSAL_LIMIT_MS)
  const notAnApp = job.lograft('not an app', ['mr', 'seq', '--app', NOT_AN_APP, ...BOOKS], REFUSAL_LIMIT_MS)
  const worker = job.lograft('worker', ['mr', 'worker', '--app', 'nope', '--coordinator', '127.0.0.1:1'], REFUSAL_LIMIT_MS)
  t.equal((await missing.exited).code, 1)
  t.match(
    missing.stderr,
    /^lograft: cannot load app "\.\/no-such-app\.js": Cannot find module .*no-such-app\.js.* \(built-in apps: wc, indexer, mtiming, rtiming, jobcount, early_exit, crash, nocrash; anything else is a path to a JavaScript module\)\n$/,
  )
  t.equal((await notAnApp.exited).code, 1)
  t.match(notAnApp.stderr, /does not export reduce as a function: an app exports map\(filename, contents\) and reduce\(key, values\)/)
  t.equal((await worker.exited).code, 1)
  t.match(worker.stderr, /cannot load app "nope"/)
})

t.test('a worker whose coordinator cannot be reached gives up within its timeout with a clear message', async (t) => {
  const job = new MrJob(t)
  const [port] = await freePorts(1)
  const startMs = performance.now()
  const worker = job.lograft(
    'worker',
    ['mr', 'worker', '--app', 'wc', '--coordinator', `127.0.0.1:${port}`, '--coordinator-timeout-ms', '1000'],
    REFUSAL_LIMIT_MS,
  )
  const exit = await worker.exited
  t.equal(exit.code, 1)
  t.match(
    worker.stderr,
    new RegExp(
      `^lograft: cannot reach the coordinator at 127\\.0\\.0\\.1:${port} within 1000 ms \\(.*cannot connect.*\\); is it running, and is the address right\\?\\n$`,
    ),
  )
  t.ok(performance.now() - startMs < 10_000, 'no hang')
})

t.test('usage errors exit 2 and say what is wrong', async (t) => {
  const job = new MrJob(t)
  const cases: Array<[string[], RegExp]> = [
    [['mr'], /unknown mr command ""/],
    [['mr', 'run', ...BOOKS], /mr run needs --app/],
    [['mr', 'run', '--app', 'wc'], /mr needs at least one input file/],
    [['mr', 'run', '--app', 'wc', '--reduce', '0', ...BOOKS], /--reduce must be an integer ≥ 1, got "0"/],
    [['mr', 'worker', '--app', 'wc', '--coordinator', 'nowhere'], /--coordinator: not a host:port address: "nowhere"/],
    [['mr', 'coordinator', ...BOOKS], /mr coordinator needs --listen HOST:PORT/],
  ]
  const runs = cases.map(([args]) => job.lograft(args.slice(0, 4).join(' '), args, REFUSAL_LIMIT_MS))
  for (const [i, run] of runs.entries()) {
    t.equal((await run.exited).code, 2, `${run.name}: exit 2`)
    t.match(run.stderr, cases[i]?.[1] ?? /never/, `${run.name}: says what is wrong`)
  }
})
