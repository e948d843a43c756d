// Differential conformance with Redis: each scenario below sends the same commands to a real
// redis-server 7.0 and to a 3-process lograft cluster, through node-redis (RESP3) and through
// ioredis (RESP2), and the test asserts lograft's transcript equals Redis's, line for line. Redis is
// the specification here: replies, error messages, edge cases of option parsing, glob matching,
// transactions and WATCH are what clients were written against. Only deterministic parts are
// compared (see test/helpers/redis-transcript.ts): TTLs as ranges, SCAN as the set of keys it
// returned, KEYS and HGETALL sorted, INFO not at all.

import t from 'tap'
import { type KvProcessCluster, respPort, startKvCluster, waitForLeader } from './helpers/kv-processes.js'
import { REDIS_VERSION_PREFIX, type RedisServer, startRedisServer } from './helpers/redis-server.js'
import {
  type ClientLibrary,
  type Driver,
  type Scenario,
  Transcript,
  ioredis,
  millisecondsFromNow,
  nodeRedis,
  runScenario,
  secondsFromNow,
  transcriptDifferences,
} from './helpers/redis-transcript.js'

const LEADER_TIMEOUT_MS = 15_000
/** lograft expires keys by the time in its log, which may run a few hundred ms behind Redis's clock. */
const EXPIRY_WAIT_MS = 5_000

t.setTimeout(240_000)

/** GET, SET, STRLEN, APPEND, GETSET, GETDEL, SETNX: missing keys, empty values, a hash where a string is expected, arity. */
async function strings(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('GET', 's:missing')
  await r.send('SET', 's:a', 'hello')
  await r.send('GET', 's:a')
  await r.send('STRLEN', 's:a')
  await r.send('STRLEN', 's:missing')
  await r.send('APPEND', 's:a', ' world')
  await r.send('APPEND', 's:new', 'abc')
  await r.send('GET', 's:new')
  await r.send('GETSET', 's:a', 'x')
  await r.send('GETSET', 's:fresh', 'v')
  await r.send('GET', 's:fresh')
  await r.send('GETDEL', 's:a')
  await r.send('GETDEL', 's:a')
  await r.send('EXISTS', 's:a')
  await r.send('SETNX', 's:n', '1')
  await r.send('SETNX', 's:n', '2')
  await r.send('GET', 's:n')
  await r.send('SET', 's:empty', '')
  await r.send('GET', 's:empty')
  await r.send('STRLEN', 's:empty')
  await r.send('EXISTS', 's:empty')
  await r.send('HSET', 's:h', 'f', 'v')
  await r.sendEach([
    ['GET', 's:h'],
    ['STRLEN', 's:h'],
    ['APPEND', 's:h', 'x'],
    ['GETSET', 's:h', 'v'],
    ['GETDEL', 's:h'],
  ])
  await r.send('SETNX', 's:h', 'v')
  await r.send('SET', 's:h', 'v')
  await r.send('TYPE', 's:h')
  await r.send('GET')
  await r.send('GET', 's:a', 's:b')
  await r.send('SET', 's:a')
  await r.send('STRLEN')
  await r.send('APPEND', 's:a')
  await r.send('GETSET', 's:a')
  await r.send('GETDEL')
  await r.send('SETNX', 's:a')
  await r.send('NOSUCHCOMMAND', 'a', 'b')
  return r
}

/** SET's options: NX, XX, GET, KEEPTTL and the expiries, repeated options, and the combinations Redis refuses. */
async function setOptions(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('SET', 'o:k', 'v', 'XX')
  await r.send('EXISTS', 'o:k')
  await r.send('SET', 'o:k', 'v', 'NX')
  await r.send('SET', 'o:k', 'w', 'NX')
  await r.send('GET', 'o:k')
  await r.send('SET', 'o:k', 'w', 'XX')
  await r.send('SET', 'o:k', 'x', 'GET')
  await r.send('SET', 'o:new', 'y', 'GET')
  await r.send('GET', 'o:new')
  // Redis 7 accepts NX with GET: the old value comes back and nothing is written.
  await r.send('SET', 'o:k', 'y', 'NX', 'GET')
  await r.send('SET', 'o:k', 'z', 'XX', 'GET')
  await r.send('SET', 'o:k', 'z2', 'xx', 'get')
  await r.send('GET', 'o:k')
  await r.send('HSET', 'o:h', 'f', 'v')
  await r.send('SET', 'o:h', 'x', 'GET')
  await r.send('TYPE', 'o:h')

  await r.send('SET', 'o:t', 'v', 'EX', '100')
  await r.ttl('TTL', 'o:t', 0, 100)
  await r.send('SET', 'o:t', 'v')
  await r.ttl('TTL', 'o:t', 0, 100)
  await r.send('SET', 'o:t', 'v', 'PX', '100000')
  await r.ttl('PTTL', 'o:t', 0, 100_000)
  await r.send('SET', 'o:t', 'w', 'KEEPTTL')
  await r.ttl('PTTL', 'o:t', 0, 100_000)
  await r.send('GET', 'o:t')
  await r.send('SET', 'o:t', 'v', 'EXAT', secondsFromNow(100))
  await r.ttl('TTL', 'o:t', 0, 100)
  await r.send('SET', 'o:t', 'v', 'PXAT', millisecondsFromNow(100_000))
  await r.ttl('PTTL', 'o:t', 0, 100_000)
  await r.send('SET', 'o:t', 'v', 'ex', '10', 'EX', '1000')
  await r.ttl('TTL', 'o:t', 100, 1000)
  await r.send('SET', 'o:t', 'v', 'KEEPTTL', 'KEEPTTL')
  await r.ttl('TTL', 'o:t', 100, 1000)
  await r.send('SET', 'o:past', 'v', 'EXAT', '1')
  await r.send('EXISTS', 'o:past')
  await r.send('SET', 'o:past', 'v', 'PXAT', '1')
  await r.send('EXISTS', 'o:past')

  for (const options of [
    ['NX', 'XX'],
    ['EX', '10', 'PX', '100'],
    ['KEEPTTL', 'EX', '10'],
    ['EXAT', '10', 'EX', '10'],
    ['PX', '10', 'PXAT', '10'],
    ['BOGUS'],
    ['EX'],
    ['NX', 'XX', 'EX', '0'],
    ['EX', '0'],
    ['EX', '-1'],
    ['PX', '0'],
    ['PX', '-5'],
    ['EXAT', '0'],
    ['PXAT', '-1'],
    ['EX', '9999999999999999'],
    ['EX', '1.5'],
    ['EX', 'abc'],
    ['PXAT', 'abc'],
  ]) {
    await r.send('SET', 'o:k', 'refused', ...options)
  }
  await r.send('GET', 'o:k')
  await r.send('SET', 'o:k')
  return r
}

/** SETEX, PSETEX and GETEX with each expiry option, PERSIST, and their refusals (GETEX checks numbers only when the key exists). */
async function expiringWrites(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('SETEX', 'x:k', '100', 'v')
  await r.ttl('TTL', 'x:k', 0, 100)
  await r.send('GET', 'x:k')
  await r.send('SETEX', 'x:k', '0', 'v')
  await r.send('SETEX', 'x:k', '-5', 'v')
  await r.send('SETEX', 'x:k', 'abc', 'v')
  await r.send('SETEX', 'x:k', '100')
  await r.send('PSETEX', 'x:p', '100000', 'v')
  await r.ttl('PTTL', 'x:p', 0, 100_000)
  await r.send('PSETEX', 'x:p', '0', 'v')
  await r.send('PSETEX', 'x:p', '1.5', 'v')
  await r.send('HSET', 'x:h', 'f', 'v')
  await r.send('SETEX', 'x:h', '100', 'v')
  await r.send('TYPE', 'x:h')

  await r.send('GETEX', 'x:missing')
  await r.send('GETEX', 'x:missing', 'EX', 'abc')
  await r.send('GETEX', 'x:missing', 'BOGUS')
  await r.send('SET', 'x:g', 'v')
  await r.send('GETEX', 'x:g')
  await r.ttl('TTL', 'x:g', 0, 100)
  await r.send('GETEX', 'x:g', 'EX', '100')
  await r.ttl('TTL', 'x:g', 0, 100)
  await r.send('GETEX', 'x:g', 'PERSIST')
  await r.ttl('TTL', 'x:g', 0, 100)
  await r.send('GETEX', 'x:g', 'PX', '100000')
  await r.ttl('PTTL', 'x:g', 0, 100_000)
  await r.send('GETEX', 'x:g', 'EXAT', secondsFromNow(100))
  await r.ttl('TTL', 'x:g', 0, 100)
  await r.send('GETEX', 'x:g', 'PXAT', millisecondsFromNow(100_000))
  await r.ttl('PTTL', 'x:g', 0, 100_000)
  await r.send('GETEX', 'x:g', 'EX', '10', 'ex', '1000')
  await r.ttl('TTL', 'x:g', 100, 1000)
  for (const options of [['EX', '0'], ['EX', 'abc'], ['PX', '-5'], ['EXAT', '0'], ['PERSIST', 'EX', '10'], ['EX', '10', 'PX', '10'], ['EX']]) {
    await r.send('GETEX', 'x:g', ...options)
  }
  await r.ttl('TTL', 'x:g', 100, 1000)
  await r.send('GETEX', 'x:g', 'EXAT', '1')
  await r.send('EXISTS', 'x:g')
  await r.send('HSET', 'x:h2', 'f', 'v')
  await r.send('GETEX', 'x:h2')
  await r.send('GETEX')
  return r
}

/** GETRANGE's index arithmetic (negative, reversed, out of range) and SETRANGE's zero padding. */
async function ranges(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('SET', 'r:s', 'Hello')
  for (const [start, end] of [
    ['0', '-1'],
    ['-3', '-1'],
    ['0', '100'],
    ['10', '20'],
    ['3', '1'],
    ['-100', '2'],
    // Redis 7.0 clamps both ends to 0 and answers the first byte (7.2 answers "").
    ['-100', '-50'],
    ['4', '-100'],
    ['-1', '-5'],
    ['4', '4'],
    ['5', '5'],
    ['0', '9223372036854775807'],
  ] as const) {
    await r.send('GETRANGE', 'r:s', start, end)
  }
  await r.send('GETRANGE', 'r:missing', '0', '-1')
  await r.send('GETRANGE', 'r:s', 'a', '1')
  await r.send('GETRANGE', 'r:s', '0')
  await r.send('SETRANGE', 'r:s', '1', 'ipp')
  await r.send('GET', 'r:s')
  await r.send('SETRANGE', 'r:s', '8', 'XY')
  await r.send('GET', 'r:s')
  await r.send('SETRANGE', 'r:new', '3', 'ab')
  await r.send('GET', 'r:new')
  await r.send('SETRANGE', 'r:empty', '0', '')
  await r.send('EXISTS', 'r:empty')
  await r.send('SETRANGE', 'r:s', '20', '')
  await r.send('STRLEN', 'r:s')
  await r.send('SETRANGE', 'r:s', '-1', 'x')
  await r.send('SETRANGE', 'r:s', 'x', '1')
  await r.send('SETRANGE', 'r:s', '1')
  await r.send('HSET', 'r:h', 'f', 'v')
  await r.send('GETRANGE', 'r:h', '0', '1')
  await r.send('SETRANGE', 'r:h', '0', 'x')
  return r
}

/** INCR, DECR, INCRBY, DECRBY: signed 64-bit limits, what counts as an integer, and the value left after a refusal. */
async function integers(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('INCR', 'i:n')
  await r.send('INCRBY', 'i:n', '41')
  await r.send('DECR', 'i:n')
  await r.send('DECRBY', 'i:n', '40')
  await r.send('INCRBY', 'i:n', '-5')
  await r.send('DECRBY', 'i:n', '-4')
  await r.send('GET', 'i:n')
  for (const value of ['abc', '1.5', '007', ' 5', '+5', '1e3', '']) {
    await r.send('SET', 'i:bad', value)
    await r.send('INCR', 'i:bad')
  }
  await r.send('GET', 'i:bad')
  for (const amount of ['1.5', '', 'abc', '9223372036854775808']) await r.send('INCRBY', 'i:n', amount)
  await r.send('SET', 'i:max', '9223372036854775807')
  await r.send('INCR', 'i:max')
  await r.send('INCRBY', 'i:max', '0')
  await r.send('DECRBY', 'i:max', '-1')
  await r.send('GET', 'i:max')
  await r.send('SET', 'i:min', '-9223372036854775808')
  await r.send('DECR', 'i:min')
  await r.send('DECRBY', 'i:min', '9223372036854775808')
  await r.send('INCRBY', 'i:lowest', '-9223372036854775808')
  // DECRBY of the lowest int64 is refused with its own message: negating it would overflow.
  await r.send('DECRBY', 'i:other', '-9223372036854775808')
  await r.send('HSET', 'i:h', 'f', 'v')
  await r.send('INCR', 'i:h')
  await r.send('DECRBY', 'i:h', '1')
  await r.send('INCR')
  await r.send('INCR', 'i:n', 'i:n')
  await r.send('DECR')
  await r.send('INCRBY', 'i:n')
  await r.send('DECRBY', 'i:n')
  return r
}

/**
 * INCRBYFLOAT: Redis adds in long double and prints with 17 decimals, trailing zeros trimmed, never
 * in exponent form, so 0.1 + 0.2 is "0.3", 1e20 is written out and 1e-20 rounds to "0".
 */
async function floats(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('SET', 'f:n', '10')
  await r.send('INCRBYFLOAT', 'f:n', '0.5')
  await r.send('INCRBYFLOAT', 'f:n', '-0.5')
  await r.send('INCRBYFLOAT', 'f:n', '5.0e3')
  await r.send('GET', 'f:n')
  await r.send('INCRBYFLOAT', 'f:new', '3')
  await r.send('INCRBYFLOAT', 'f:new', '1.10')
  await r.send('INCRBYFLOAT', 'f:sum', '0.1')
  await r.send('INCRBYFLOAT', 'f:sum', '0.2')
  await r.send('INCRBYFLOAT', 'f:big', '1e20')
  await r.send('INCRBYFLOAT', 'f:tiny', '1e-20')
  await r.send('GET', 'f:tiny')
  await r.send('INCRBYFLOAT', 'f:zero', '-2.5')
  await r.send('INCRBYFLOAT', 'f:zero', '2.5')
  await r.send('INCRBYFLOAT', 'f:forms', '+1.5')
  await r.send('INCRBYFLOAT', 'f:forms', '.5')
  await r.send('INCRBYFLOAT', 'f:forms', '5.')
  await r.send('SET', 'f:exp', '1e3')
  await r.send('INCR', 'f:exp')
  await r.send('INCRBYFLOAT', 'f:exp', '1')
  await r.send('INCR', 'f:exp')
  for (const amount of ['abc', '', ' 1', '1_0', 'nan', 'inf', '-inf']) await r.send('INCRBYFLOAT', 'f:n', amount)
  for (const value of ['abc', '1.5 ', '  ']) {
    await r.send('SET', 'f:bad', value)
    await r.send('INCRBYFLOAT', 'f:bad', '1')
  }
  await r.send('HSET', 'f:h', 'f', 'v')
  await r.send('INCRBYFLOAT', 'f:h', '1')
  await r.send('INCRBYFLOAT', 'f:n')
  await r.send('GET', 'f:n')
  return r
}

/** MGET, MSET, MSETNX, DEL and EXISTS over several keys: repeats, missing keys, a hash among strings, odd pairs. */
async function manyKeys(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('MSET', 'm:a', '1', 'm:b', '2')
  await r.send('MGET', 'm:a', 'm:b', 'm:missing', 'm:a')
  await r.send('HSET', 'm:h', 'f', 'v')
  await r.send('MGET', 'm:a', 'm:h')
  await r.send('MSET', 'm:a', '10', 'm:a', '11')
  await r.send('GET', 'm:a')
  await r.send('MSETNX', 'm:a', '5', 'm:c', '3')
  await r.send('EXISTS', 'm:c')
  await r.send('MSETNX', 'm:c', '3', 'm:d', '4')
  await r.send('MGET', 'm:c', 'm:d')
  await r.send('MSETNX', 'm:e', '1', 'm:e', '2')
  await r.send('GET', 'm:e')
  await r.send('MSETNX', 'm:h', '1', 'm:f', '2')
  await r.send('EXISTS', 'm:f')
  await r.send('DEL', 'm:a', 'm:b', 'm:a', 'm:missing')
  await r.send('DEL', 'm:h')
  await r.send('EXISTS', 'm:c', 'm:c', 'm:c', 'm:missing')
  await r.send('EXISTS', 'm:missing')
  const many = Array.from({ length: 20 }, (_, i) => `m:many${i}`)
  await r.send('MSET', ...many.flatMap((key) => [key, key]))
  await r.send('EXISTS', ...many)
  await r.send('DEL', ...many, 'm:missing', 'm:many0')
  await r.send('EXISTS', ...many)
  await r.send('MSET', 'm:a', '1', 'm:b')
  await r.send('MSET')
  await r.send('MGET')
  await r.send('MSETNX', 'm:c')
  await r.send('MSETNX', 'm:c', '1', 'm:d')
  await r.send('DEL')
  await r.send('EXISTS')
  return r
}

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX, XX, GT and LT (no TTL counts as infinite), TTL, PTTL, PERSIST; past times delete. */
async function expiries(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('SET', 'e:k', 'v')
  await r.send('EXPIRE', 'e:k', '100', 'GT')
  await r.send('EXPIRE', 'e:k', '100', 'LT')
  await r.ttl('TTL', 'e:k', 0, 100)
  await r.send('PERSIST', 'e:k')
  await r.send('PERSIST', 'e:k')
  await r.ttl('TTL', 'e:k', 0, 100)
  await r.send('EXPIRE', 'e:k', '100', 'XX')
  await r.send('EXPIRE', 'e:k', '100', 'NX')
  await r.send('EXPIRE', 'e:k', '200', 'NX')
  await r.ttl('TTL', 'e:k', 0, 100)
  await r.send('EXPIRE', 'e:k', '50', 'GT')
  await r.send('EXPIRE', 'e:k', '200', 'GT')
  await r.ttl('TTL', 'e:k', 100, 200)
  await r.send('EXPIRE', 'e:k', '300', 'LT')
  await r.send('EXPIRE', 'e:k', '150', 'LT')
  await r.ttl('TTL', 'e:k', 100, 150)
  await r.send('EXPIRE', 'e:k', '120', 'XX', 'GT')
  await r.send('EXPIRE', 'e:k', '180', 'XX', 'GT')
  await r.send('EXPIRE', 'e:k', '100', 'gt')
  await r.ttl('TTL', 'e:k', 150, 180)
  await r.send('PEXPIRE', 'e:k', '100000', 'LT')
  await r.ttl('PTTL', 'e:k', 0, 100_000)
  await r.send('PEXPIRE', 'e:k', '100000', 'NX')
  await r.send('EXPIREAT', 'e:k', secondsFromNow(500))
  await r.ttl('TTL', 'e:k', 400, 500)
  await r.send('PEXPIREAT', 'e:k', millisecondsFromNow(300_000), 'LT')
  await r.ttl('PTTL', 'e:k', 200_000, 300_000)
  await r.send('EXPIREAT', 'e:k', secondsFromNow(400), 'GT')
  await r.ttl('TTL', 'e:k', 300, 400)

  for (const [command, ...args] of [
    ['EXPIRE', '100', 'NX', 'XX'],
    ['EXPIRE', '100', 'GT', 'LT'],
    ['EXPIRE', '100', 'NX', 'GT'],
    ['PEXPIRE', 'abc', 'NX', 'XX'],
    ['EXPIRE', '100', 'BOGUS'],
    ['EXPIRE', 'abc'],
    ['EXPIRE', '1.5'],
    ['EXPIRE', '9223372036854775807'],
    ['PEXPIRE', '9223372036854775807'],
    ['EXPIREAT', '9223372036854775807'],
    ['EXPIREAT', 'abc'],
    ['PEXPIREAT', 'abc'],
  ] as const) {
    await r.send(command, 'e:k', ...args)
  }
  for (const command of ['EXPIRE', 'PEXPIRE', 'EXPIREAT', 'PEXPIREAT']) await r.send(command, 'e:missing', '100')
  await r.send('EXPIRE', 'e:missing', 'abc')
  await r.send('TTL', 'e:missing')
  await r.send('PTTL', 'e:missing')
  await r.send('PERSIST', 'e:missing')

  await r.send('SET', 'e:d', 'v')
  await r.send('EXPIRE', 'e:d', '0', 'GT')
  await r.send('EXISTS', 'e:d')
  await r.send('EXPIRE', 'e:d', '-1', 'LT')
  await r.send('EXISTS', 'e:d')
  await r.send('SET', 'e:d', 'v')
  await r.send('EXPIRE', 'e:d', '0')
  await r.send('EXISTS', 'e:d')
  await r.send('SET', 'e:d', 'v')
  await r.send('PEXPIRE', 'e:d', '-5')
  await r.send('EXISTS', 'e:d')
  await r.send('SET', 'e:d', 'v')
  await r.send('EXPIREAT', 'e:d', '1')
  await r.send('EXISTS', 'e:d')
  await r.send('SET', 'e:d', 'v')
  await r.send('PEXPIREAT', 'e:d', '1', 'GT')
  await r.send('EXISTS', 'e:d')
  await r.send('HSET', 'e:h', 'f', 'v')
  await r.send('EXPIRE', 'e:h', '100')
  await r.ttl('TTL', 'e:h', 0, 100)

  await r.sendEach([
    ['EXPIRE', 'e:k'],
    ['PEXPIRE', 'e:k'],
    ['EXPIREAT', 'e:k'],
    ['PEXPIREAT', 'e:k'],
    ['TTL'],
    ['PTTL'],
    ['PERSIST'],
    ['PERSIST', 'e:k', 'e:d'],
  ])
  return r
}

/** Keys given 300 ms are gone once that time has passed: not read, not counted, not listed; rewritten keys lose or keep their TTL. */
async function lapse(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('SET', 'l:px', 'v', 'PX', '300')
  await r.ttl('PTTL', 'l:px', 0, 300)
  await r.send('SET', 'l:at', 'v', 'PXAT', millisecondsFromNow(300))
  await r.send('HSET', 'l:h', 'f', 'v')
  await r.send('PEXPIRE', 'l:h', '300')
  await r.send('SET', 'l:kept', 'v', 'PX', '300')
  await r.send('SET', 'l:kept', 'w', 'KEEPTTL')
  await r.send('SET', 'l:rewritten', 'v', 'PX', '300')
  await r.send('SET', 'l:rewritten', 'w')
  await r.send('SET', 'l:getex', 'v')
  await r.send('GETEX', 'l:getex', 'PX', '300')
  await r.send('SET', 'l:stays', 'v', 'EX', '100')
  const expiring = ['l:px', 'l:at', 'l:h', 'l:kept', 'l:getex']
  await r.waitUntilGone(expiring, EXPIRY_WAIT_MS)
  await r.send('GET', 'l:px')
  await r.send('EXISTS', ...expiring)
  await r.send('TTL', 'l:px')
  await r.send('PTTL', 'l:px')
  await r.send('HGET', 'l:h', 'f')
  await r.send('TYPE', 'l:h')
  await r.send('GET', 'l:kept')
  await r.send('GET', 'l:getex')
  await r.send('GET', 'l:rewritten')
  await r.ttl('TTL', 'l:rewritten', 0, 100)
  await r.send('GET', 'l:stays')
  await r.send('DBSIZE')
  await r.sendSorted('KEYS', 'l:*')
  await r.scan('MATCH', 'l:*')
  await r.send('SET', 'l:px', 'again')
  await r.send('GET', 'l:px')
  await r.ttl('TTL', 'l:px', 0, 100)
  return r
}

/** TYPE of each kind of value and of nothing, and DBSIZE as keys come and go. */
async function typesAndSize(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('DBSIZE')
  await r.send('SET', 't:s', 'v')
  await r.send('INCR', 't:n')
  await r.send('HSET', 't:h', 'f', 'v')
  for (const key of ['t:s', 't:n', 't:h', 't:missing']) await r.send('TYPE', key)
  await r.send('DBSIZE')
  await r.send('DEL', 't:s')
  await r.send('HDEL', 't:h', 'f')
  await r.send('DBSIZE')
  await r.send('TYPE', 't:h')
  await r.send('TYPE')
  await r.send('TYPE', 't:s', 't:n')
  await r.send('DBSIZE', 'x')
  return r
}

/** KEYS with Redis's glob: * ? [set] [^set] [a-z] (either way round), backslash escapes, unclosed brackets; case matters. */
async function keyPatterns(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('MSET', ...['g:a', 'g:b', 'g:c', 'g:ab', 'g:*', 'g:?', 'g:[', 'g:\\', 'g:d', 'g:A'].flatMap((key) => [key, '1']))
  await r.send('HSET', 'g:h', 'f', 'v')
  for (const pattern of [
    '*',
    'g:*',
    'g:?',
    'g:[abc]',
    'g:[^a]',
    'g:[a-c]',
    'g:[c-a]',
    'g:[^a-c]',
    'g:[A-Z]',
    // Only ^ negates a set; [!a] is the set of '!' and 'a'.
    'g:[!a]',
    'g:\\*',
    'g:\\?',
    'g:\\[',
    'g:\\\\',
    'g:\\',
    'g:a*',
    'g:*b',
    'G:a',
    'g:[',
    'g:[a',
    'g:??',
    'nomatch:*',
    '',
  ]) {
    await r.sendSorted('KEYS', pattern)
  }
  await r.send('KEYS')
  await r.send('KEYS', 'g:*', 'g:?')
  return r
}

/** SCAN followed from cursor 0 back to 0, with MATCH, COUNT and TYPE, and its refusals. */
async function scanning(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('MSET', ...Array.from({ length: 30 }, (_, i) => [`sc:${i}`, String(i)]).flat())
  await r.send('HSET', 'sc:h', 'f', 'v')
  await r.send('SET', 'other:x', 'v')
  await r.scan()
  await r.scan('COUNT', '1')
  await r.scan('MATCH', 'sc:1*', 'COUNT', '5')
  await r.scan('MATCH', 'nomatch:*')
  await r.scan('TYPE', 'hash')
  await r.scan('TYPE', 'string', 'MATCH', 'other:*')
  await r.scan('type', 'String', 'match', 'sc:2?')
  // Redis 7.0 accepts a type name it does not know and matches nothing (7.2 refuses it).
  await r.scan('TYPE', 'bogus')
  await r.scan('COUNT', '1', 'COUNT', '100', 'MATCH', 'sc:1*', 'MATCH', 'sc:2*')
  for (const words of [
    ['0', 'COUNT', '0'],
    ['0', 'COUNT', '-1'],
    ['0', 'COUNT', 'abc'],
    ['abc'],
    ['1.5'],
    ['0', 'MATCH'],
    ['0', 'TYPE'],
    ['0', 'BOGUS', 'x'],
    [],
  ]) {
    await r.send('SCAN', ...words)
  }
  return r
}

/** FLUSHDB and FLUSHALL, with SYNC or ASYNC, empty the database; anything else after them is a syntax error. */
async function flushing(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  const fill = async (): Promise<void> => {
    await r.send('MSET', 'fl:a', '1', 'fl:b', '2')
    await r.send('HSET', 'fl:h', 'f', 'v')
    await r.send('DBSIZE')
  }
  for (const words of [['FLUSHDB'], ['FLUSHDB', 'ASYNC'], ['FLUSHDB', 'sync'], ['FLUSHALL'], ['FLUSHALL', 'SYNC'], ['FLUSHALL', 'async']]) {
    await fill()
    await r.send(...words)
    await r.send('DBSIZE')
    await r.send('GET', 'fl:a')
  }
  await fill()
  await r.sendEach([
    ['FLUSHDB', 'x'],
    ['FLUSHDB', 'SYNC', 'ASYNC'],
    ['FLUSHALL', 'bogus'],
    ['FLUSHALL', 'ASYNC', 'x'],
  ])
  await r.send('DBSIZE')
  return r
}

/** MULTI, EXEC and DISCARD sent as plain commands: QUEUED, the EXEC array, errors while running versus errors while queuing. */
async function transactions(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('EXEC')
  await r.send('DISCARD')
  await r.multiExec(['SET', 'tx:a', '1'], ['INCR', 'tx:a'], ['GET', 'tx:a'], ['DEL', 'tx:missing'])
  await r.multiExec()
  // An error while running is that command's element; the others still apply.
  await r.multiExec(['SET', 'tx:t', 'abc'], ['INCR', 'tx:t'], ['SET', 'tx:u', '1'], ['HSET', 'tx:t', 'f', 'v'])
  await r.send('MGET', 'tx:t', 'tx:u')
  // A syntax error in a command's options shows only when it runs, so it does not abort the others.
  await r.multiExec(['SET', 'tx:x', '1', 'BOGUS'], ['SET', 'tx:y', '1'], ['SET', 'tx:z', '1', 'EX', '0'], ['EXPIRE', 'tx:y', '10', 'NX', 'XX'])
  await r.send('MGET', 'tx:x', 'tx:y', 'tx:z')
  await r.multiExec(['INCRBYFLOAT', 'tx:f', '1.5'], ['INCRBYFLOAT', 'tx:f', 'x'], ['GETRANGE', 'tx:f', '0', '0'])
  // A wrong number of arguments or an unknown command is found while queuing: EXEC refuses everything.
  await r.multiExec(['SET', 'tx:q', '1'], ['GET'], ['SET', 'tx:r', '1'])
  await r.multiExec(['SET', 'tx:q', '1'], ['NOSUCHCOMMAND', 'a'])
  await r.send('MGET', 'tx:q', 'tx:r')
  // MULTI inside MULTI is refused, but the transaction goes on.
  await r.multiExec(['SET', 'tx:n', '1'], ['MULTI'], ['INCR', 'tx:n'])
  await r.multiExec(['HSET', 'tx:h', 'a', '1', 'b', '2'], ['HGET', 'tx:h', 'a'], ['HINCRBY', 'tx:h', 'n', '5'], ['EXPIRE', 'tx:h', '100'], ['PERSIST', 'tx:h'])
  await r.multiExec(['MSET', 'tx:m1', '1', 'tx:m2', '2'], ['FLUSHDB'], ['DBSIZE'], ['SET', 'tx:after', '1'])
  await r.send('DBSIZE')
  await r.send('MULTI')
  await r.send('SET', 'tx:d', '1')
  await r.send('DISCARD')
  await r.send('GET', 'tx:d')
  await r.send('EXEC')
  await r.send('MULTI')
  await r.send('GET')
  await r.send('DISCARD')
  await r.send('DISCARD')
  await r.send('MULTI', 'x')
  await r.send('EXEC', 'x')
  await r.send('DISCARD', 'x')
  return r
}

/** The libraries' own transaction and pipeline helpers: results, an error inside, and a transaction aborted while queuing. */
async function libraryHelpers(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.transaction(['SET', 'lh:a', '1'], ['INCR', 'lh:a'], ['GET', 'lh:a'])
  await r.transaction(['SET', 'lh:t', 'abc'], ['INCR', 'lh:t'], ['SET', 'lh:u', '1'])
  await r.transaction(['SET', 'lh:z', '1'], ['GET'])
  await r.send('MGET', 'lh:a', 'lh:t', 'lh:u', 'lh:z')
  await r.pipeline(['SET', 'lh:p', '1'], ['INCR', 'lh:p'], ['GET', 'lh:p'], ['HSET', 'lh:h', 'f', 'v'], ['HGET', 'lh:h', 'f'])
  await r.pipeline(['SET', 'lh:q', '1'], ['INCR', 'lh:t'], ['GET'], ['GET', 'lh:q'])
  await r.send('GET', 'lh:q')
  return r
}

/** WATCH and UNWATCH: EXEC is null once another connection (another member, on lograft) writes a watched key, and only then. */
async function watching(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  const other = r.on(await client.another(), 'other')
  await r.send('SET', 'w:k', '1')
  await r.send('WATCH', 'w:k')
  await other.send('SET', 'w:k', '2')
  await r.multiExec(['SET', 'w:k', 'mine'])
  await r.send('GET', 'w:k')

  await r.send('WATCH', 'w:k', 'w:other')
  await other.send('SET', 'w:unwatched', 'x')
  await r.multiExec(['SET', 'w:k', 'mine'], ['INCR', 'w:count'])
  await r.send('MGET', 'w:k', 'w:count')

  // EXEC forgets what was watched: the next transaction is not affected by an earlier watch.
  await other.send('SET', 'w:k', '3')
  await r.multiExec(['INCR', 'w:count'])

  await r.send('WATCH', 'w:k')
  await r.send('UNWATCH')
  await other.send('SET', 'w:k', '4')
  await r.multiExec(['SET', 'w:k', 'mine'])
  await r.send('GET', 'w:k')

  // A key that did not exist is watched too.
  await r.send('WATCH', 'w:new')
  await other.send('SET', 'w:new', 'x')
  await r.multiExec(['SET', 'w:new', 'mine'])
  await r.send('GET', 'w:new')

  // Expiring, deleting, flushing: each is a change. (Writing the same value is one in Redis but not
  // in lograft, whose WATCH compares what a key holds at EXEC with what it held at WATCH; the
  // README says so.)
  for (const change of [
    ['EXPIRE', 'w:k', '100'],
    ['DEL', 'w:k'],
  ]) {
    await r.send('SET', 'w:k', 'mine')
    await r.send('WATCH', 'w:k')
    await other.send(...change)
    await r.multiExec(['INCR', 'w:count'])
  }
  await r.send('SET', 'w:k', 'mine')
  await r.send('WATCH', 'w:k')
  await other.send('FLUSHDB')
  await r.multiExec(['INCR', 'w:count'])

  // Not a change: a refused write, a read, deleting a key that does not exist.
  await r.send('SET', 'w:k', 'text')
  await r.send('WATCH', 'w:k', 'w:absent')
  await other.send('INCR', 'w:k')
  await other.send('GET', 'w:k')
  await other.send('DEL', 'w:absent')
  await r.multiExec(['INCR', 'w:count'])

  // The watching connection's own write counts as well.
  await r.send('WATCH', 'w:k')
  await r.send('SET', 'w:k', 'own')
  await r.multiExec(['INCR', 'w:count'])
  await r.send('GET', 'w:count')

  // WATCH inside MULTI is refused, and the transaction goes on.
  await r.multiExec(['WATCH', 'w:k'], ['INCR', 'w:count'])
  await r.send('WATCH')
  await r.send('UNWATCH', 'w:k')
  return r
}

/** The libraries' own WATCH with their transaction helper: node-redis throws WatchError, ioredis answers null. */
async function watchHelpers(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  const other = r.on(await client.another(), 'other')
  await r.send('SET', 'wh:k', '1')
  await r.watch('wh:k')
  await other.send('SET', 'wh:k', '2')
  await r.transaction(['SET', 'wh:k', 'mine'])
  await r.send('GET', 'wh:k')
  await r.watch('wh:k', 'wh:j')
  await other.send('SET', 'wh:unwatched', '1')
  await r.transaction(['SET', 'wh:k', 'mine'], ['GET', 'wh:k'])
  await r.send('GET', 'wh:k')
  return r
}

/** HSET, HGET, HDEL, HGETALL, HINCRBY, HLEN, HEXISTS, HMGET: new-field counts, missing hashes and fields, a string where a hash is expected. */
async function hashes(client: Driver): Promise<Transcript> {
  const r = await Transcript.begin(client)
  await r.send('HSET', 'h:h', 'a', '1', 'b', '2')
  await r.send('HSET', 'h:h', 'a', '10', 'c', '3')
  await r.send('HGET', 'h:h', 'a')
  await r.send('HGET', 'h:h', 'zz')
  await r.send('HGET', 'h:missing', 'a')
  await r.sendMap('HGETALL', 'h:h')
  await r.sendMap('HGETALL', 'h:missing')
  await r.send('HLEN', 'h:h')
  await r.send('HLEN', 'h:missing')
  await r.send('HEXISTS', 'h:h', 'b')
  await r.send('HEXISTS', 'h:h', 'zz')
  await r.send('HEXISTS', 'h:missing', 'b')
  await r.send('HMGET', 'h:h', 'b', 'zz', 'c')
  await r.send('HMGET', 'h:missing', 'a', 'b')
  await r.send('HDEL', 'h:h', 'a', 'zz', 'a')
  await r.send('HDEL', 'h:missing', 'a')
  await r.send('HLEN', 'h:h')
  await r.send('HINCRBY', 'h:h', 'n', '5')
  await r.send('HINCRBY', 'h:h', 'n', '-10')
  await r.send('HINCRBY', 'h:h', 'c', '1.5')
  await r.send('HINCRBY', 'h:h', 'b', 'x')
  await r.send('HSET', 'h:h', 's', 'abc', 'lz', '007')
  await r.send('HINCRBY', 'h:h', 's', '1')
  await r.send('HINCRBY', 'h:h', 'lz', '1')
  await r.send('HSET', 'h:h', 'big', '9223372036854775807')
  await r.send('HINCRBY', 'h:h', 'big', '1')
  await r.send('HINCRBY', 'h:h', 'n', '9223372036854775807')
  await r.send('HINCRBY', 'h:new', 'f', '3')
  await r.send('TYPE', 'h:new')
  await r.send('HSET', 'h:h', '', '')
  await r.send('HGET', 'h:h', '')
  await r.send('HSET', 'h:h', '2', 'two', '1', 'one')
  await r.sendMap('HGETALL', 'h:h')
  await r.send('HDEL', 'h:h', 'b', 'c', 'n', 's', 'lz', 'big', '', '1', '2')
  await r.send('EXISTS', 'h:h')
  await r.send('TYPE', 'h:h')
  await r.send('SET', 'h:s', 'v')
  await r.sendEach([
    ['HSET', 'h:s', 'a', '1'],
    ['HGET', 'h:s', 'a'],
    ['HDEL', 'h:s', 'a'],
    ['HINCRBY', 'h:s', 'a', '1'],
    ['HLEN', 'h:s'],
    ['HEXISTS', 'h:s', 'a'],
    ['HMGET', 'h:s', 'a'],
  ])
  await r.sendMap('HGETALL', 'h:s')
  await r.sendEach([
    ['HSET', 'h:h', 'a'],
    ['HSET', 'h:h', 'a', '1', 'b'],
    ['HSET', 'h:h'],
    ['HGET', 'h:h'],
    ['HDEL', 'h:h'],
    ['HGETALL'],
    ['HGETALL', 'h:h', 'x'],
    ['HINCRBY', 'h:h', 'n'],
    ['HLEN'],
    ['HEXISTS', 'h:h'],
    ['HMGET', 'h:h'],
  ])
  return r
}

const SCENARIOS: readonly Scenario[] = [
  strings,
  setOptions,
  expiringWrites,
  ranges,
  integers,
  floats,
  manyKeys,
  expiries,
  lapse,
  typesAndSize,
  keyPatterns,
  scanning,
  flushing,
  transactions,
  libraryHelpers,
  watching,
  watchHelpers,
  hashes,
]
const LIBRARIES: readonly ClientLibrary[] = [nodeRedis, ioredis]

const redis: RedisServer = await startRedisServer({ versionPrefix: REDIS_VERSION_PREFIX })
t.teardown(() => redis.stop())
const redisPorts = [redis.port]
const kv: KvProcessCluster = await startKvCluster(3)
// A difference is in the replies, all of which the transcripts show: the nodes' data has nothing to add.
t.teardown(() => kv.stop(false))
if (!(await waitForLeader(kv.cluster, LEADER_TIMEOUT_MS))) throw new Error(`no lograft leader within ${LEADER_TIMEOUT_MS} ms of start`)
const lograftPorts = kv.nodes.map(respPort)

for (const library of LIBRARIES) {
  t.test(`through ${library.name}`, async (t) => {
    for (const scenario of SCENARIOS) {
      t.test(scenario.name, async (t) => {
        const expected = await runScenario(library, redisPorts, scenario)
        const actual = await runScenario(library, lograftPorts, scenario)
        const differences = transcriptDifferences(expected, actual, { expected: 'redis', actual: 'lograft' })
        if (differences.length > 0) t.comment(`${scenario.name} through ${library.name}, where lograft differs:\n${differences.join('\n')}`)
        t.same(actual, expected, `lograft answers the ${scenario.name} scenario as Redis ${redis.version} does`)
      })
    }
  })
}
