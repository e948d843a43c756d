// A group server's two measures of a held-up event loop (src/node/event-loop-stalls.ts): the delay
// counts both long work and time spent waiting for a CPU; the busy time counts only the main
// thread's own work. Both causes are produced here for real: a synchronous loop that runs long, and
// the process stopped by SIGSTOP from outside, as a crowded machine's scheduler would leave it.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventLoopStalls } from '../src/node/event-loop-stalls.js'
import { openMainThreadCpu } from '../src/node/main-thread-cpu.js'

/**
 * Runs on the event loop, without yielding, until the process has used `ms` of CPU time: work of
 * that length, however long the scheduler makes it take on a busy machine.
 */
function work(ms: number): void {
  const started = process.cpuUsage()
  for (;;) {
    const used = process.cpuUsage(started)
    if (used.user + used.system >= ms * 1000) return
  }
}

/** The process is stopped for `ms` by another process (SIGSTOP, then SIGCONT): no work, no CPU. */
async function stoppedFromOutside(ms: number): Promise<void> {
  const child = spawn('sh', ['-c', `kill -STOP ${process.pid}; sleep ${ms / 1000}; kill -CONT ${process.pid}`], { stdio: 'ignore' })
  const [code] = await once(child, 'exit')
  if (code !== 0) throw new Error(`the stopping shell exited with ${code}`)
}

t.test("the main thread's CPU time is readable here and grows with work, not with waiting", async (t) => {
  const cpu = openMainThreadCpu()
  if (cpu === null) throw new Error('no /proc/self/task/<pid>/schedstat: the busy measure is Linux-only, and this test runs on Linux')
  try {
    const before = cpu.runNs()
    work(40)
    const afterWork = cpu.runNs()
    await sleep(80)
    const afterWait = cpu.runNs()
    t.ok(afterWork - before >= 30e6, `40 ms of work counted ${(afterWork - before) / 1e6} ms`)
    t.ok(afterWait - afterWork < 30e6, `80 ms asleep counted ${(afterWait - afterWork) / 1e6} ms`)
  } finally {
    cpu.close()
  }
})

/**
 * Runs `body` with stalls being measured from a fresh window: the checks' timers have started, and a
 * few ticks have passed since the reset, because monitorEventLoopDelay measures nothing in the first
 * interval after one (its timer has no previous tick to measure from).
 */
async function measuring(body: (stalls: EventLoopStalls) => Promise<void>): Promise<void> {
  const stalls = new EventLoopStalls()
  stalls.start()
  try {
    await sleep(30)
    stalls.reset()
    await sleep(30)
    await body(stalls)
  } finally {
    stalls.stop()
  }
}

t.test('long work on the event loop shows in both the delay and the busy time', async (t) => {
  await measuring(async (stalls) => {
    work(80)
    await sleep(40) // The late checks run and record it.
    t.ok(stalls.maxMs() >= 60, `delay ${stalls.maxMs()} ms after 80 ms of work`)
    const busy = stalls.maxBusyMs()
    t.ok(busy !== null && busy >= 60, `busy ${busy} ms after 80 ms of work`)
  })
})

t.test('a process left waiting (stopped from outside) shows a long delay but no long work', async (t) => {
  await measuring(async (stalls) => {
    await stoppedFromOutside(200)
    await sleep(40)
    t.ok(stalls.maxMs() >= 120, `delay ${stalls.maxMs()} ms across a 200 ms stop`)
    const busy = stalls.maxBusyMs()
    t.ok(busy !== null && busy < 40, `busy ${busy} ms across a 200 ms stop: it was not working`)
  })
})

t.test('a reset starts a new window', async (t) => {
  await measuring(async (stalls) => {
    work(150)
    await sleep(40)
    t.ok(stalls.maxMs() >= 120 && (stalls.maxBusyMs() ?? 0) >= 120, `the long work is recorded: delay ${stalls.maxMs()} ms, busy ${stalls.maxBusyMs()} ms`)
    stalls.reset()
    await sleep(60)
    t.ok(stalls.maxMs() < 120 && (stalls.maxBusyMs() ?? Infinity) < 120, `after the reset, delay ${stalls.maxMs()} ms, busy ${stalls.maxBusyMs()} ms`)
  })
})
