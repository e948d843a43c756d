// Work for a RESP client that has gone is abandoned: commands pipelined behind the one running are
// dropped. A multi-key command is one KV command (atomic, as in Redis), so it is never cut short
// halfway: the backend sees it whole, once.

import t from 'tap'
import { encodeCommand } from '../src/resp/client.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { startServer } from './helpers/resp-server.js'

const KEYS = 100_000

for (const command of ['EXISTS', 'DEL']) {
  t.test(`${command} over ${KEYS} keys is one backend call, whole, even when its client disconnects`, async (t) => {
    const server = await startServer(t, {}, { delayMs: () => 50 })
    const client = await server.connect()
    const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)

    client.writeRaw(encodeCommand([command, ...keys]))
    while (server.backend.calls.length === 0) await sleep(systemClock, 5)
    await client.close()
    await sleep(systemClock, 200)

    t.equal(server.backend.calls.length, 1, 'one call')
    t.equal((server.backend.calls[0] ?? '').split(' ').length - 1, KEYS, 'with every key')
  })
}

t.test('commands pipelined behind a slow one are dropped when the client disconnects', async (t) => {
  const server = await startServer(t, {}, { delayMs: (_operation, keys) => (keys[0] === 'slow' ? 200 : 0) })
  const client = await server.connect()
  const queued = Array.from({ length: 50 }, (_, i) => encodeCommand(['SET', `k${i}`, 'v']))

  client.writeRaw(Buffer.concat([encodeCommand(['GET', 'slow']), ...queued]))
  while (server.backend.calls.length === 0) await sleep(systemClock, 5)
  await client.close()
  await sleep(systemClock, 400)

  t.same(server.backend.calls, ['get slow'])
})
