// The RESP endpoint's timeouts: idle connections are closed (busy ones are not), and a command that
// arrives too slowly is cut off however steadily its bytes trickle, while a steady pipeline is not.

import t from 'tap'
import { encodeCommand } from '../src/resp/client.js'
import { bulkReply, errorReply, simpleReply } from '../src/resp/reply.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { startServer, within } from './helpers/resp-server.js'

t.test('a connection idle for idleTimeoutMs is closed and the close is logged with its address', async (t) => {
  const server = await startServer(t, { idleTimeoutMs: 200 })
  const client = await server.connect()
  t.same(await client.call('PING'), simpleReply('PONG'))

  await within(2000, 'the idle close', client.closed)

  const closing = server.logger.events.find((event) => event.message === 'closing client connection')
  t.match(closing, { level: 'info', fields: { reason: 'idle for 200 ms', remote: /^127\.0\.0\.1:\d+$/ } })
})

t.test('a connection sending now and then, or waiting for a slow command, is not idle', async (t) => {
  const server = await startServer(t, { idleTimeoutMs: 200 }, { delayMs: (_operation, keys) => (keys[0] === 'slow' ? 500 : 0) })
  const chatty = await server.connect()
  const waiting = await server.connect()

  const slow = waiting.call('GET', 'slow')
  for (let i = 0; i < 6; i++) {
    t.same(await chatty.call('PING'), simpleReply('PONG'))
    await sleep(systemClock, 100)
  }

  t.same(await slow, bulkReply(null), 'the slow command is answered')
  t.same(await waiting.call('PING'), simpleReply('PONG'), 'and its connection is still open')
  t.same(
    server.logger.events.filter((event) => event.message === 'closing client connection'),
    [],
  )
})

t.test('a command trickling in a byte at a time is cut off after incompleteCommandTimeoutMs', async (t) => {
  const server = await startServer(t, { incompleteCommandTimeoutMs: 300 })
  const client = await server.connect()
  client.writeRaw('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\n')

  const trickle = setInterval(() => client.writeRaw('v'), 50)
  t.teardown(() => clearInterval(trickle))

  t.same(await within(2000, 'the reply', client.nextReply()), errorReply('ERR', 'command incomplete after 300 ms; closing the connection'))
  await within(2000, 'the close', client.closed)
  const closing = server.logger.events.find((event) => event.message === 'closing client connection')
  t.match(closing, { level: 'warn', fields: { reason: 'command incomplete after 300 ms', remote: /^127\.0\.0\.1:\d+$/ } })
  t.same(server.backend.calls, [])
})

t.test('a steady pipeline whose every write ends mid-command is not cut off', async (t) => {
  const server = await startServer(t, { incompleteCommandTimeoutMs: 300 })
  const client = await server.connect()
  const stream = Buffer.concat(Array.from({ length: 8 }, (_, i) => encodeCommand(['SET', `k${i}`, 'v'.repeat(20)])))
  const pieceBytes = Math.ceil(stream.length / 8) + 3 // never a whole command per piece, so each write ends mid-command

  for (let at = 0; at < stream.length; at += pieceBytes) {
    client.writeRaw(stream.subarray(at, at + pieceBytes))
    await sleep(systemClock, 100)
  }

  const replies = await Promise.all(Array.from({ length: 8 }, () => client.nextReply()))
  t.same(
    replies,
    Array.from({ length: 8 }, () => simpleReply('OK')),
    'every command is answered after 800 ms of partial commands',
  )
})
