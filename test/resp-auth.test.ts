// Password authentication (requirePass): before AUTH only AUTH, HELLO and QUIT are answered; the
// three ways to authenticate; Redis's replies to a wrong password and to AUTH without a password;
// and the real redis-cli with and without -a.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { RespOptionError } from '../src/resp/errors.js'
import { NULL_REPLY, type RespReply, bulkReply, errorReply, simpleReply } from '../src/resp/reply.js'
import { RespServer } from '../src/resp/server.js'
import { MemoryLogger } from '../src/base/logger.js'
import { MapKvBackend } from './helpers/map-kv-backend.js'
import { startServer } from './helpers/resp-server.js'

const run = promisify(execFile)
const PASSWORD = 'correct horse battery staple'
const OK = simpleReply('OK')
const NOAUTH = errorReply('NOAUTH', 'Authentication required.')
const WRONGPASS = errorReply('WRONGPASS', 'invalid username-password pair or user is disabled.')

/** The first element of an array reply, e.g. HELLO's "server". */
function firstItem(reply: RespReply): RespReply | undefined {
  return reply.kind === 'array' ? reply.items?.[0] : undefined
}

t.test('before authenticating, every command but AUTH, HELLO and QUIT answers NOAUTH, unknown ones too', async (t) => {
  const server = await startServer(t, { requirePass: PASSWORD })
  const client = await server.connect()

  for (const command of [['GET', 'k'], ['SET', 'k', 'v'], ['PING'], ['INFO'], ['COMMAND'], ['CLIENT', 'ID'], ['CONFIG', 'GET', '*'], ['NOSUCH']]) {
    t.same(await client.call(...command), NOAUTH, command.join(' '))
  }
  t.same(server.backend.calls, [], 'nothing reached the backend')
  t.same(await client.call('AUTH', PASSWORD), OK)
  t.same(await client.call('SET', 'k', 'v'), OK, 'and after AUTH, commands run')
})

t.test('AUTH password, AUTH default password and HELLO 2 AUTH default password each authenticate', async (t) => {
  const server = await startServer(t, { requirePass: PASSWORD })
  const [one, two, three] = [await server.connect(), await server.connect(), await server.connect()]

  t.same(await one.call('AUTH', PASSWORD), OK)
  t.same(await two.call('AUTH', 'default', PASSWORD), OK)
  t.same(firstItem(await three.call('HELLO', '2', 'AUTH', 'default', PASSWORD, 'SETNAME', 'app')), bulkReply('server'))

  for (const client of [one, two, three]) t.same(await client.call('PING'), simpleReply('PONG'))
  t.same(await three.call('CLIENT', 'GETNAME'), bulkReply('app'))
})

t.test('a wrong password or user answers WRONGPASS and authenticates nothing; a failed AUTH keeps an earlier success', async (t) => {
  const server = await startServer(t, { requirePass: PASSWORD })
  const client = await server.connect()

  t.same(await client.call('AUTH', 'wrong'), WRONGPASS)
  t.same(await client.call('AUTH', 'default', 'wrong'), WRONGPASS)
  t.same(await client.call('AUTH', 'admin', PASSWORD), WRONGPASS, 'only the default user exists')
  t.same(await client.call('HELLO', '2', 'AUTH', 'default', 'wrong', 'SETNAME', 'sneaky'), WRONGPASS)
  t.same(await client.call('AUTH', 'a', 'b', 'c'), errorReply('ERR', 'syntax error'))
  t.same(await client.call('GET', 'k'), NOAUTH)
  t.same(await client.call('AUTH', PASSWORD), OK)
  t.same(await client.call('AUTH', 'wrong'), WRONGPASS)
  t.same(await client.call('CLIENT', 'GETNAME'), bulkReply(null), 'the failed HELLO set no name')
})

t.test('before authenticating, HELLO without AUTH is refused in Redis words, HELLO 3 AUTH switches to RESP3, and QUIT closes', async (t) => {
  const server = await startServer(t, { requirePass: PASSWORD })
  const client = await server.connect()

  t.same(
    await client.call('HELLO', '2'),
    errorReply(
      'NOAUTH',
      'HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    ),
  )
  t.same(await client.call('HELLO', '3', 'AUTH', 'default', 'wrong'), WRONGPASS, 'a wrong password is refused')
  t.same(await client.call('GET', 'k'), errorReply('NOAUTH', 'Authentication required.'), 'and the protocol is still RESP2')
  const hello = await client.call('HELLO', '3', 'AUTH', 'default', PASSWORD)
  t.equal(hello.kind, 'map', 'authenticated in RESP3')
  t.same(await client.call('GET', 'missing'), NULL_REPLY)
  t.same(await client.call('QUIT'), OK)
  await client.closed
})

t.test('without requirePass, AUTH answers as Redis does without a password: an error for the one-argument form', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  t.same(
    await client.call('AUTH', 'anything'),
    errorReply('ERR', 'AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'),
  )
  t.same(await client.call('AUTH', 'default', 'anything'), OK, 'the default user takes any password')
  t.same(await client.call('AUTH', 'admin', 'anything'), WRONGPASS)
  t.same(await client.call('PING'), simpleReply('PONG'))
})

t.test('an empty requirePass is refused rather than taken as "no password"', async (t) => {
  t.throws(() => new RespServer({ host: '127.0.0.1', port: 0, backend: new MapKvBackend(), logger: new MemoryLogger(), requirePass: '' }), RespOptionError)
})

t.test('redis-cli -a PASSWORD is served; redis-cli without it is told NOAUTH', async (t) => {
  const server = await startServer(t, { requirePass: PASSWORD })
  const cli = (...args: string[]): Promise<{ stdout: string; stderr: string }> => run('redis-cli', ['-p', String(server.port), ...args])

  t.equal((await cli('-a', PASSWORD, '--no-auth-warning', 'SET', 'k', 'v')).stdout, 'OK\n')
  t.equal((await cli('-a', PASSWORD, '--no-auth-warning', 'GET', 'k')).stdout, 'v\n')
  // redis-cli prints a blank line after an error reply.
  t.equal((await cli('GET', 'k')).stdout, 'NOAUTH Authentication required.\n\n')
  const wrong = await cli('-a', 'wrong', '--no-auth-warning', 'GET', 'k')
  t.equal(wrong.stderr, 'AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n')
  t.equal(wrong.stdout, 'NOAUTH Authentication required.\n\n')
  t.same(server.backend.calls, ['put k', 'get k'])
})
