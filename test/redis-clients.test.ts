// The Redis clients people use, against a real 3-process cluster (issue 15): node-redis with its
// default options (it opens with HELLO 3 and speaks RESP3), ioredis (RESP2) and `redis-cli -3`
// connect, write and read through any member, pipeline, and get Redis-style errors that leave the
// connection usable.

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import t from 'tap'
import { type KvProcessCluster, respPort, startKvCluster } from './helpers/kv-processes.js'

t.setTimeout(90_000)

const run = promisify(execFile)
const kv: KvProcessCluster = await startKvCluster(3)
t.teardown(() => kv.stop(!t.passing()))
const ports = kv.nodes.map((node) => respPort(node))

t.test('node-redis with default options (RESP3)', async (t) => {
  const client = createClient({ url: `redis://127.0.0.1:${ports[0]}` })
  client.on('error', () => {})
  await client.connect()
  t.teardown(() => client.destroy())
  t.equal(await client.set('node-redis', 'hello'), 'OK')
  t.equal(await client.get('node-redis'), 'hello')
  t.equal(await client.get('node-redis-missing'), null, 'a missing key is null')
  t.equal(await client.append('node-redis', ', world'), 12)
  t.equal(await client.exists(['node-redis', 'node-redis-missing']), 1)
  const info = await client.info('server')
  t.match(info, /server_name:lograft/, 'INFO')
  const replies = await client.multi().set('p1', '1').set('p2', '2').get('p1').execAsPipeline()
  t.same(replies, ['OK', 'OK', '1'], 'a pipeline')
  await t.rejects(client.sendCommand(['NOSUCHCOMMAND']), /unknown command/, 'an unknown command is an error')
  t.equal(await client.get('p2'), '2', 'and the connection goes on')
  t.equal(await client.del('node-redis'), 1)
  t.equal(await client.incr('hits'), 1)
  t.equal(await client.incrBy('hits', 41), 42)
  t.equal(await client.decr('hits'), 41)
  t.equal(await client.decrBy('hits', 40), 1)
  t.equal(await client.set('lock', 'token-1', { condition: 'NX' }), 'OK', 'SET NX takes a free lock')
  t.equal(await client.set('lock', 'token-2', { condition: 'NX' }), null, 'and not a held one')
  t.equal(await client.setNX('lock', 'token-3'), 0)
  t.equal(await client.getSet('lock', 'token-4'), 'token-1')
  t.equal(await client.strLen('lock'), 7)
  t.equal(await client.getDel('lock'), 'token-4')
  t.equal(await client.get('lock'), null)
  await client.set('not-a-number', 'abc')
  await t.rejects(client.incr('not-a-number'), /value is not an integer or out of range/, 'INCR of text is an error')
  t.equal(await client.get('not-a-number'), 'abc', 'that changed nothing')
})

t.test('ioredis (RESP2), a 100-command pipeline through another member', async (t) => {
  const client = new Redis({ port: ports[1], host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 })
  await client.connect()
  t.teardown(() => client.disconnect())
  t.equal(await client.set('ioredis', 'v'), 'OK')
  t.equal(await client.get('ioredis'), 'v')
  const pipeline = client.pipeline()
  for (let i = 0; i < 100; i++) pipeline.set(`io${i}`, String(i))
  const results = await pipeline.exec()
  t.equal(results?.filter(([error, reply]) => error === null && reply === 'OK').length, 100, 'all 100 answered OK')
  t.equal(await client.get('io42'), '42')
  const counting = client.pipeline()
  for (let i = 0; i < 50; i++) counting.incr('io-counter')
  await counting.exec()
  t.equal(await client.get('io-counter'), '50', '50 pipelined INCRs, each once')
})

t.test('redis-cli -3 through the third member', async (t) => {
  const cli = (...args: string[]) => run('redis-cli', ['-3', '--no-raw', '-p', String(ports[2]), ...args]).then(({ stdout }) => stdout.trim())
  t.equal(await cli('SET', 'cli3', 'x'), 'OK')
  t.equal(await cli('GET', 'cli3'), '"x"')
  t.equal(await cli('GET', 'cli3-missing'), '(nil)', 'null shows as nil')
  t.match(await cli('HELLO', '3'), /1# "server" => "lograft"/, 'HELLO 3 answers a map')
  t.match(await cli('CONFIG', 'GET', 'appendonly'), /1# "appendonly" => "no"/, 'CONFIG GET answers a map')
})
