// The lab's crash test on real processes: workers of the crash app die or hang at random in map
// and reduce, and are relaunched in a loop while the coordinator runs; the job must still produce
// exactly the output of the app without crashes.
import t from 'tap'
import { BOOKS, MrJob, type MrProcess, expectCleanExits } from './helpers/mr-processes.js'

/** The lab's limit for the crash test's processes. */
const CRASH_LIMIT_MS = 120_000
/**
 * Half the default 10 s. The crash app hangs for up to 10 s, so many hung attempts are timed out
 * and re-run while they still run: duplicates race to rename the same files, and the job ends in
 * half the time a crash costs with the default.
 */
const TASK_TIMEOUT_MS = 5000
/** The lab's loops sleep a second before relaunching a worker. */
const RELAUNCH_PAUSE_MS = 1000

t.test('crash: workers that exit or hang at random, relaunched in a loop, still produce the non-crashing output', async (t) => {
  const job = new MrJob(t)
  const { process: coordinator, address } = await job.coordinator(['--reduce', '10', '--task-timeout-ms', String(TASK_TIMEOUT_MS), ...BOOKS], CRASH_LIMIT_MS)
  let coordinatorRunning = true
  void coordinator.exited.then(() => (coordinatorRunning = false))
  const workers: MrProcess[] = []
  const launch = (): MrProcess => {
    const worker = job.worker('crash', address, CRASH_LIMIT_MS)
    workers.push(worker)
    return worker
  }
  async function relaunchLoop(): Promise<void> {
    while (coordinatorRunning) {
      await launch().exited
      await new Promise((resolve) => setTimeout(resolve, RELAUNCH_PAUSE_MS))
    }
  }
  launch()
  await Promise.all([relaunchLoop(), relaunchLoop(), relaunchLoop()])
  await expectCleanExits(t, [coordinator])
  const crashed = (await Promise.all(workers.map((worker) => worker.exited))).filter((exit) => exit.code !== 0).length
  t.comment(`${workers.length} workers launched, ${crashed} of them crashed`)
  t.ok(
    workers.every((worker) => !worker.running),
    'no worker is left running',
  )
  t.same(job.output(), await job.sequential('nocrash'))
})
