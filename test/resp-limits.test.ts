// The RESP endpoint's bounds on memory: sizes refused from a header before anything is buffered,
// input per connection held within bounds by not reading (pipelining still works), a client that
// leaves its replies unread closed, the server-wide bound on input held, and maxClients.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { infoFields } from '../src/cli/resp-probe.js'
import { type RespClient, type Word, encodeCommand } from '../src/resp/client.js'
import { RespOptionError } from '../src/resp/errors.js'
import { resolveLimits } from '../src/resp/limits.js'
import { ARGUMENT_OVERHEAD_BYTES } from '../src/resp/parser.js'
import { type RespReply, bulkReply, errorReply, simpleReply } from '../src/resp/reply.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { logged, startServer, within } from './helpers/resp-server.js'

const run = promisify(execFile)
const KIB = 1024
const OK = simpleReply('OK')

/** The server's input_held_bytes, from INFO over a connection of its own. */
async function inputHeldBytes(port: number): Promise<number> {
  const fields = await infoFields(port)
  return Number(fields?.get('input_held_bytes') ?? Number.NaN)
}

t.test('a bulk string larger than the largest value is refused from its header, before any of it arrives', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  client.writeRaw('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$450000000\r\n')

  t.same(await within(2000, 'the reply to the header', client.nextReply()), errorReply('ERR', 'Protocol error: invalid bulk length (450000000, max 67108864)'))
  await within(2000, 'the close', client.closed)
})

t.test('the longest bulk string follows maxValueBytes, and CONFIG GET reports it', async (t) => {
  const server = await startServer(t, { maxValueBytes: 1024 * KIB })
  const accepted = await server.connect()
  const refused = await server.connect()

  t.same(await accepted.call('CONFIG', 'GET', 'proto-max-bulk-len'), { kind: 'array', items: [bulkReply('proto-max-bulk-len'), bulkReply('1048576')] })
  refused.writeRaw('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n')
  accepted.writeRaw('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048576\r\n')

  t.same(await refused.nextReply(), errorReply('ERR', 'Protocol error: invalid bulk length (1048577, max 1048576)'))
  accepted.writeRaw(Buffer.concat([Buffer.alloc(1024 * KIB, 'v'), Buffer.from('\r\n')]))
  t.same(await accepted.nextReply(), OK, 'a value of exactly maxValueBytes is taken')
})

t.test('an array longer than maxArrayElements is refused from its header', async (t) => {
  const server = await startServer(t, { maxArrayElements: 1000 })
  const client = await server.connect()

  client.writeRaw('*1001\r\n')

  t.same(await client.nextReply(), errorReply('ERR', 'Protocol error: invalid multibulk length (1001, max 1000)'))
  await client.closed
})

t.test('a 100-command pipeline is answered in order even when the server has to stop reading to keep within its bounds', async (t) => {
  const server = await startServer(t, { maxPipelinedCommands: 4, maxPipelinedBytes: 1024 })
  const client = await server.connect()
  const commands: Word[][] = []
  const expected: RespReply[] = []
  for (let i = 0; i < 50; i++) {
    commands.push(['SET', `k${i}`, `v${i}`], ['GET', `k${i}`])
    expected.push(OK, bulkReply(`v${i}`))
  }

  t.same(await client.pipeline(commands), expected)
})

t.test('redis-benchmark -P 16 completes against tight pipelining bounds', async (t) => {
  const server = await startServer(t, { maxPipelinedCommands: 4, maxPipelinedBytes: 512 })

  const { stdout } = await run('redis-benchmark', ['-p', String(server.port), '-t', 'set,get', '-n', '2000', '-P', '16', '-q'], { timeout: 60_000 })

  t.match(stdout, /SET: [\d.]+ requests per second/)
  t.match(stdout, /GET: [\d.]+ requests per second/)
  t.notMatch(stdout, /error|ERR/i)
})

t.test('a client sending faster than its commands run is held back by TCP, not buffered by the server', async (t) => {
  const server = await startServer(t, { maxPipelinedBytes: 64 * KIB }, { delayMs: (operation) => (operation === 'put' ? 1 : 0) })
  const client = await server.connect()
  const value = Buffer.alloc(8 * KIB, 'v')
  const requests = Array.from({ length: 1000 }, (_, i) => encodeCommand(['SET', `k${i}`, value]))

  client.writeRaw(Buffer.concat(requests))
  await sleep(systemClock, 200)
  const heldBytes = await inputHeldBytes(server.port)

  // What waits (up to the bound, plus one received chunk) and one command running.
  const bound = 64 * KIB + 64 * KIB + 2 * (value.length + 4 * ARGUMENT_OVERHEAD_BYTES)
  t.ok(heldBytes > 0 && heldBytes <= bound, `the server holds ${heldBytes} bytes of this client's 8 MiB, at most ${bound}`)
  t.ok(client.socket.writableLength > 4 * 1024 * KIB, `the rest waits in the client (${client.socket.writableLength} bytes)`)
  const replies = await Promise.all(requests.map(() => client.nextReply()))
  t.equal(replies.filter((reply) => reply.kind === 'simple').length, 1000, 'and every command is run in the end')
})

t.test('a client that leaves its replies unread for outputStallTimeoutMs is closed, and the reason logged', async (t) => {
  const server = await startServer(t, { outputStallTimeoutMs: 300 })
  const client = await server.connect()
  await client.call('SET', 'big', 'x'.repeat(64 * KIB))
  client.socket.pause()

  client.writeRaw(Buffer.concat(Array.from({ length: 1000 }, () => encodeCommand(['GET', 'big']))))

  const closing = await within(5000, 'the close', logged(server.logger, 'closing client connection'))
  t.match(closing, { level: 'warn', fields: { reason: 'replies unread for 300 ms', remote: /^127\.0\.0\.1:\d+$/ } })
  t.ok(server.backend.calls.length < 500, `only ${server.backend.calls.length} of 1001 commands ran`)
  client.socket.resume()
  await within(5000, 'the client seeing the close', client.closed)
})

t.test('clients each sending part of a large value cannot together hold more than maxTotalInputBytes', async (t) => {
  const maxTotalInputBytes = 1024 * KIB
  const server = await startServer(t, { maxTotalInputBytes, maxValueBytes: 512 * KIB })
  const header = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$409600\r\n')
  const clients: RespClient[] = []
  const refused: RespClient[] = []

  for (let i = 0; i < 5; i++) {
    const client = await server.connect()
    clients.push(client)
    client.writeRaw(Buffer.concat([header, Buffer.alloc(300 * KIB, 'v')]))
    const outcome = await Promise.race([client.closed.then(() => 'closed'), sleep(systemClock, 300).then(() => 'open')])
    if (outcome === 'closed') refused.push(client)
    const heldBytes = await inputHeldBytes(server.port)
    t.ok(heldBytes <= maxTotalInputBytes, `after client ${i}: ${heldBytes} bytes held`)
  }

  t.same(
    refused.map((client) => clients.indexOf(client)),
    [3, 4],
    'the clients whose input would have taken the total over the bound are closed',
  )
  t.same(await refused[0]?.nextReply(), errorReply('ERR', 'the server holds too much client input (over 1048576 bytes for all clients); try again later'))
  t.match(
    server.logger.events.filter((event) => event.message === 'closing client connection'),
    [
      { level: 'warn', fields: { reason: 'client input held by the server would exceed maxTotalInputBytes', remote: /^127\.0\.0\.1:\d+$/ } },
      { level: 'warn', fields: { reason: 'client input held by the server would exceed maxTotalInputBytes' } },
    ],
  )
  for (const client of clients.slice(0, 3)) client.writeRaw(Buffer.concat([Buffer.alloc(100 * KIB, 'v'), Buffer.from('\r\n')]))
  for (const client of clients.slice(0, 3)) t.same(await client.nextReply(), OK, 'the others complete their commands')
  t.ok((await inputHeldBytes(server.port)) < 1024, 'and the input they held is released')
})

t.test('beyond maxClients a new connection is told why and closed; existing ones carry on, and a freed place is taken', async (t) => {
  const server = await startServer(t, { maxClients: 1 })
  const first = await server.connect()
  t.same(await first.call('PING'), simpleReply('PONG'))

  const second = await server.connect()

  t.same(await second.nextReply(), errorReply('ERR', 'max number of clients reached'))
  await second.closed
  t.same(await first.call('PING'), simpleReply('PONG'))
  t.match(
    server.logger.events.find((event) => event.message === 'refusing a client: too many connections'),
    { fields: { maxClients: 1 } },
  )
  await first.close()
  await sleep(systemClock, 100) // for the server to see the close
  const third = await server.connect()
  t.same(await third.call('PING'), simpleReply('PONG'), 'the place the first client left is taken by the next')
})

t.test('a bound out of range is refused, naming the option', async (t) => {
  t.throws(() => resolveLimits({ idleTimeoutMs: -1 }), new RespOptionError('idleTimeoutMs', 'must be a whole number of at least 0, not -1'))
  t.throws(() => resolveLimits({ maxPipelinedBytes: 0.5 }), { name: 'RespOptionError', message: /^RESP server option maxPipelinedBytes / })
  t.throws(() => resolveLimits({ maxValueBytes: 1024 * KIB, maxTotalInputBytes: 512 * KIB }), {
    name: 'RespOptionError',
    message: /^RESP server option maxTotalInputBytes \(524288\) must be at least maxCommandBytes/,
  })
  t.equal(
    resolveLimits({ maxValueBytes: 512 * 1024 * KIB }).maxTotalInputBytes,
    resolveLimits({ maxValueBytes: 512 * 1024 * KIB }).maxCommandBytes,
    'the default grows to hold the largest command',
  )
})
