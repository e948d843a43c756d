import t from 'tap'
import { VirtualClock } from '../src/sim/virtual-clock.js'
import { sleep } from '../src/base/clock.js'

t.test('timers fire in due order, ties in creation order', async (t) => {
  const clock = new VirtualClock()
  const fired: string[] = []
  await clock.run(async () => {
    clock.setTimeout(() => fired.push('b@20'), 20)
    clock.setTimeout(() => fired.push('a@10'), 10)
    clock.setTimeout(() => fired.push('c@20'), 20)
    const cancelled = clock.setTimeout(() => fired.push('never'), 5)
    clock.clearTimeout(cancelled)
    await sleep(clock, 30)
  })
  t.same(fired, ['a@10', 'b@20', 'c@20'])
  t.equal(clock.now(), 30)
})

t.test('a stalled scenario is reported instead of hanging', async (t) => {
  const clock = new VirtualClock()
  await t.rejects(
    clock.run(() => new Promise(() => {})),
    { code: 'ERR_SIMULATION_STALLED' },
  )
})

t.test('a scenario that throws before returning its promise leaves the clock usable', async (t) => {
  const clock = new VirtualClock()
  const throwsAtOnce = (): Promise<void> => {
    throw new Error('thrown before any await')
  }
  await t.rejects(clock.run(throwsAtOnce), { message: 'thrown before any await' })
  t.equal(await clock.run(async () => 'ran'), 'ran')
})
