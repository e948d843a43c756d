// Work for a RESP client that has gone is abandoned: a multi-key command stops between slices of
// keys, and commands pipelined behind the one running are dropped.

import t from 'tap'
import { encodeCommand } from '../src/resp/client.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { logged, startServer, within } from './helpers/resp-server.js'

const KEYS = 100_000

for (const command of ['EXISTS', 'DEL']) {
  t.test(`${command} over many keys stops soon after its client disconnects`, async (t) => {
    const operation = command.toLowerCase()
    const server = await startServer(t, {}, { delayMs: (called) => (called === operation ? 2 : 0) })
    const client = await server.connect()
    const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)

    client.writeRaw(encodeCommand([command, ...keys]))
    while (server.backend.calls.length === 0) await sleep(systemClock, 5)
    await client.close()
    await within(2000, 'the abandon', logged(server.logger, 'abandoned a command: its client has gone'))
    const callsThen = server.backend.calls.length
    await sleep(systemClock, 100)

    const keysAsked = server.backend.calls.reduce((sum, call) => sum + call.split(' ').length - 1, 0)
    t.ok(keysAsked < KEYS / 10, `the backend was asked about ${keysAsked} of ${KEYS} keys`)
    t.equal(server.backend.calls.length, callsThen, 'and nothing more once the command was abandoned')
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
