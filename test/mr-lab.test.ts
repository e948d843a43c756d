// The MIT 6.5840 MapReduce lab's tests (test-mr.sh), on real processes: a coordinator and workers
// as separate `lograft mr` programs over TCP, sharing the job directory, with the lab's apps and
// the lab's time limit per process. The crash test is in mr-crash.test.ts.
import t, { type Test } from 'tap'
import { BOOKS, MrJob, expectCleanExits } from './helpers/mr-processes.js'

/** The lab's mrcoordinator always runs with ten reduce tasks. */
const LAB_REDUCE = ['--reduce', '10']

/** Starts the lab's coordinator on the books and `workers` workers of `app`; resolves when all have exited. */
async function labJob(t: Test, app: string, workers: number): Promise<MrJob> {
  const job = new MrJob(t)
  const { process: coordinator, address } = await job.coordinator([...LAB_REDUCE, ...BOOKS])
  const started = Array.from({ length: workers }, () => job.worker(app, address))
  await expectCleanExits(t, [coordinator, ...started])
  return job
}

t.test('wc with 3 workers: the output equals the sequential word count', async (t) => {
  const job = await labJob(t, 'wc', 3)
  const expected = await job.sequential('wc')
  t.ok(expected.length > 10_000, `the books hold ${expected.length} distinct words`)
  t.same(job.output(), expected)
})

t.test('indexer with 2 workers: the output equals the sequential index', async (t) => {
  const job = await labJob(t, 'indexer', 2)
  t.same(job.output(), await job.sequential('indexer'))
})

t.test('map parallelism: both workers run map tasks, and two maps run at the same time', async (t) => {
  const job = await labJob(t, 'mtiming', 2)
  const output = job.output()
  t.equal(output.filter((line) => line.startsWith('times-')).length, 2, 'maps ran on exactly two workers')
  t.ok(
    output.some((line) => /^parallel-\d+ .*\b2\b/.test(line)),
    'some map saw another worker running a map',
    { output },
  )
})

t.test('reduce parallelism: two reduce tasks run at the same time', async (t) => {
  const job = await labJob(t, 'rtiming', 2)
  const output = job.output()
  t.ok(output.filter((line) => /^[a-z] 2$/.test(line)).length >= 2, 'at least two reduces saw another reduce running', { output })
})

t.test('job count: with 4 workers and nothing failing, each map task runs exactly once', async (t) => {
  const job = await labJob(t, 'jobcount', 4)
  t.same(job.output(), [`a ${BOOKS.length}`])
})

t.test('early exit: no process exits before every output file is final', async (t) => {
  const job = new MrJob(t)
  const { process: coordinator, address } = await job.coordinator([...LAB_REDUCE, ...BOOKS])
  const processes = [coordinator, ...Array.from({ length: 3 }, () => job.worker('early_exit', address))]
  // Like `wait -n`: the output as it stands the moment the first process exits.
  const atFirstExit = new Promise<{ name: string; output: string[] }>((resolve) => {
    for (const process of processes) process.onExit(() => resolve({ name: process.name, output: job.output() }))
  })
  const first = await atFirstExit
  await expectCleanExits(t, processes)
  const final = job.output()
  t.equal(final.length, BOOKS.length, 'one line per input file')
  t.same(first.output, final, `the output was already final when ${first.name} exited`)
})
