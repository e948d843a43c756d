// Free port blocks for local clusters: test files that tap runs at the same time (different job
// slots) draw from disjoint slices of the range, so two of them never start clusters on one block.

import net from 'node:net'
import t from 'tap'
import { basePortRange, freePortBlock } from '../src/testing/ports.js'

t.test('each tap job slot draws from its own slice, below the ephemeral range; outside tap, the whole range', async (t) => {
  const whole = basePortRange(undefined)
  t.same(whole, { lowest: 20_000, highest: 32_000 })
  const slots = ['0', '1', '2', '3'].map((job) => basePortRange(job))
  for (const [index, slot] of slots.entries()) {
    t.ok(slot.lowest >= whole.lowest && slot.highest <= whole.highest, `slot ${index} lies inside the range`)
    t.ok(slot.highest - slot.lowest >= 1000, `slot ${index} has room for many blocks`)
    for (const other of slots.slice(index + 1)) t.ok(slot.highest <= other.lowest, `slot ${index} ends before a later slot begins`)
  }
  t.same(basePortRange('not a number'), whole, 'a TAP_JOB_ID that is not a slot number is ignored')
})

t.test("a block from freePortBlock lies in this file's slice, and every port in it can be bound", async (t) => {
  const count = 12
  const base = await freePortBlock(count)
  const { lowest, highest } = basePortRange(process.env.TAP_JOB_ID)
  t.ok(base >= lowest && base + count < highest, `block ${base + 1}-${base + count} lies in ${lowest}-${highest}`)
  const servers: net.Server[] = []
  t.teardown(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))))
  for (let port = base + 1; port <= base + count; port++) {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    })
    servers.push(server)
  }
  t.equal(servers.length, count)
})
