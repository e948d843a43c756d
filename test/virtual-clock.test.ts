import t from 'tap'
import { VirtualClock } from '../src/sim/virtual-clock.js'
import { sleep } from '../src/sim/clock.js'

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
  await t.rejects(clock.run(() => new Promise(() => {})), { code: 'ERR_SIMULATION_STALLED' })
})
