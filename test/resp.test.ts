// The RESP endpoint: the parser on its own (every chunk boundary, pipelining, inline commands,
// binary data, bounds, malformed input), the reply encoder, and the server over real TCP with an
// in-memory backend: round trips, ordering, errors that keep the connection, errors that close it,
// limits, and the real redis-cli and redis-benchmark (CI installs redis-tools; see .ci/apt-packages).

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { type Word, encodeCommand } from '../src/resp/client.js'
import { RespError } from '../src/resp/errors.js'
import { RespParser, type RespParserOptions } from '../src/resp/parser.js'
import { NULL_REPLY, type RespReply, arrayReply, bulkReply, errorReply, integerReply, mapReply, simpleReply } from '../src/resp/reply.js'
import { RespWriter, encodeReply } from '../src/resp/writer.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { startServer } from './helpers/resp-server.js'

const run = promisify(execFile)

/** Parses `input` in the given chunks and returns every command as strings, plus the error if any. */
function parse(chunks: readonly (Buffer | string)[], options: Partial<RespParserOptions> = {}): { commands: string[][]; error: string | null } {
  const parser = new RespParser(options)
  const commands: string[][] = []
  for (const chunk of chunks) {
    const result = parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk)
    commands.push(...result.commands.map((args) => args.map((value) => value.toString('latin1'))))
    if (result.protocolError) return { commands, error: result.protocolError.message }
  }
  return { commands, error: null }
}

/** A pipeline mixing RESP arrays, inline commands, an empty line, an empty array and binary data. */
const MIXED_PIPELINE = Buffer.concat([
  encodeCommand(['SET', 'greeting', 'hello world']),
  Buffer.from("PING\r\n\r\n*0\r\nSET \"quoted key\" 'it\\'s'\r\n", 'latin1'),
  encodeCommand(['SET', Buffer.from([0, 13, 10, 255]), Buffer.alloc(0)]),
  encodeCommand(['GET', 'greeting']),
])

const MIXED_COMMANDS = [['SET', 'greeting', 'hello world'], ['PING'], ['SET', 'quoted key', "it's"], ['SET', '\u0000\r\n\u00ff', ''], ['GET', 'greeting']]

t.test('a RESP array of bulk strings parses to its arguments', async (t) => {
  t.same(parse(['*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n']), { commands: [['SET', 'k', 'value']], error: null })
})

t.test('pipelined commands in one chunk come out in order', async (t) => {
  t.same(parse([MIXED_PIPELINE]), { commands: MIXED_COMMANDS, error: null })
})

t.test('a pipeline split at every byte boundary parses the same', async (t) => {
  for (let at = 0; at <= MIXED_PIPELINE.length; at++) {
    const split = parse([MIXED_PIPELINE.subarray(0, at), MIXED_PIPELINE.subarray(at)])
    if (split.error !== null || JSON.stringify(split.commands) !== JSON.stringify(MIXED_COMMANDS)) {
      t.fail(`split at byte ${at} parsed as ${JSON.stringify(split)}`)
      return
    }
  }
  const byteByByte = [...MIXED_PIPELINE].map((byte) => Buffer.of(byte))
  t.same(parse(byteByByte), { commands: MIXED_COMMANDS, error: null }, 'one byte per chunk')
})

t.test('inline commands split on whitespace and honour quotes and escapes', async (t) => {
  t.same(parse(['PING\r\n', 'get  key\n', 'SET k "a\\tb\\x41\\"" \'c d\'\r\n']).commands, [['PING'], ['get', 'key'], ['SET', 'k', 'a\tbA"', 'c d']])
})

t.test('bulk strings are binary-safe: CR, LF, NUL and bytes that are not UTF-8 survive', async (t) => {
  const value = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0xfe, 0x2a, 0x24])
  const result = new RespParser().push(encodeCommand(['SET', 'k', value]))
  t.same(result.commands[0]?.[2], value)
})

t.test('a long bulk string arriving in many chunks parses once it is complete', async (t) => {
  const value = Buffer.alloc(1024 * 1024, 'v')
  const bytes = encodeCommand(['SET', 'k', value])
  const parser = new RespParser()
  const completed: number[] = []
  for (let at = 0; at < bytes.length; at += 1000) {
    if (parser.push(bytes.subarray(at, at + 1000)).commands.length > 0) completed.push(at)
  }
  t.same(completed, [bytes.length - (bytes.length % 1000 || 1000)], 'the command completes with the last chunk only')
})

t.test('a bulk string longer than maxBulkBytes is a protocol error', async (t) => {
  t.same(parse([encodeCommand(['SET', 'k', 'x'.repeat(11)])], { maxBulkBytes: 10 }), {
    commands: [],
    error: 'invalid bulk length (11, max 10)',
  })
  t.same(parse([encodeCommand(['SET', 'k', 'x'.repeat(10)])], { maxBulkBytes: 10 }).commands, [['SET', 'k', 'x'.repeat(10)]])
})

t.test('an array with more than maxArrayElements elements is a protocol error', async (t) => {
  t.same(parse(['*4\r\n'], { maxArrayElements: 3 }).error, 'invalid multibulk length (4, max 3)')
  t.same(parse(['a b c d\r\n'], { maxArrayElements: 3 }).error, 'too many arguments in inline request (4, max 3)')
})

t.test('an inline line longer than maxInlineBytes is a protocol error before its newline arrives', async (t) => {
  t.same(parse(['PING', ' 0123456789', 'abcdef'], { maxInlineBytes: 16 }).error, 'too big inline request (more than 16 bytes)')
  t.same(parse(['*1234567890123456789'], { maxInlineBytes: 16 }).error, 'too big mbulk count string (more than 16 bytes)')
})

t.test('a command declaring more than maxCommandBytes of arguments is a protocol error', async (t) => {
  t.same(parse(['*3\r\n$3\r\nSET\r\n$4\r\nkey1\r\n$8\r\n'], { maxCommandBytes: 12 }).error, 'command too large (more than 12 bytes of arguments)')
})

t.test('malformed input is a protocol error after the commands before it', async (t) => {
  const cases: [string, string][] = [
    ['*1\r\n:5\r\n', "expected '$', got ':'"],
    ['*abc\r\n', 'invalid multibulk length (abc, max 1048576)'],
    ['*01\r\n', 'invalid multibulk length (01, max 1048576)'],
    ['*1\r\n$-5\r\n', 'invalid bulk length (-5, max 536870912)'],
    ['*1\r\n$3\r\nabcde\r\n', 'bulk string of 3 bytes is not followed by CRLF'],
    ['*1\n', 'header line ends in LF without CR'],
    ['SET "a b\r\n', 'unbalanced quotes in request'],
    ['SET "a"b\r\n', 'unbalanced quotes in request'],
  ]
  for (const [input, error] of cases) {
    t.same(parse([`PING\r\n${input}PING\r\n`]), { commands: [['PING']], error }, JSON.stringify(input))
  }
})

t.test('after a protocol error the parser yields nothing more', async (t) => {
  const parser = new RespParser()
  const first = parser.push(Buffer.from('*x\r\n'))
  const later = parser.push(Buffer.from('PING\r\n'))
  t.equal(first.protocolError?.code, 'ERR_RESP_PROTOCOL')
  t.same(later.commands, [])
  t.equal(later.protocolError, first.protocolError)
})

t.test('the writer encodes every RESP2 type byte for byte', async (t) => {
  const writer = new RespWriter()
    .simpleString('OK')
    .error('TRYAGAIN', 'no leader')
    .integer(-42)
    .bulkString(Buffer.from([0, 13, 10]))
    .bulkString(null)
    .arrayHeader(null)
    .reply(arrayReply([integerReply(1), bulkReply('é'), arrayReply([])]))
  t.equal(
    writer.toBuffer().toString('latin1'),
    '+OK\r\n-TRYAGAIN no leader\r\n:-42\r\n$3\r\n\u0000\r\n\r\n$-1\r\n*-1\r\n*3\r\n:1\r\n$2\r\n\u00c3\u00a9\r\n*0\r\n',
  )
  t.equal(writer.byteLength, writer.toBuffer().length)
})

t.test('an error reply never contains a line break, whatever its message', async (t) => {
  t.equal(encodeReply(errorReply('ERR', 'line one\r\nline two')).toString(), '-ERR line one  line two\r\n')
})

const OK = simpleReply('OK')

t.test('SET, GET, APPEND, DEL and EXISTS round-trip through the backend, in any letter case', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  t.same(await client.call('SET', 'k', 'v'), OK)
  t.same(await client.call('get', 'k'), bulkReply('v'))
  t.same(await client.call('Append', 'k', 'xyz'), integerReply(4))
  t.same(await client.call('GET', 'k'), bulkReply('vxyz'))
  t.same(await client.call('EXISTS', 'k', 'k', 'missing'), integerReply(2))
  t.same(await client.call('DEL', 'k', 'missing'), integerReply(1))
  t.same(await client.call('GET', 'k'), bulkReply(null))
  t.same(server.backend.calls, ['put k', 'get k', 'append k', 'get k', 'exists k k missing', 'delete k missing', 'get k'])
})

t.test('binary keys and values round-trip unchanged', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()
  const key = Buffer.from([0xff, 0x00, 0x0d, 0x0a])
  const value = Buffer.from([0x00, 0x0d, 0x0a, 0x24, 0x2a, 0xc3])

  await client.call('SET', key, value)

  t.same(await client.call('GET', key), bulkReply(value))
})

t.test('pipelined replies come back in request order, and one connection never has two commands in the backend', async (t) => {
  // Without strict ordering the slow GET would finish last and its reply would come out of order.
  const server = await startServer(t, {}, { delayMs: (operation, keys) => (keys[0] === 'slow' ? 60 : operation === 'put' ? 20 : 0) })
  const client = await server.connect()

  const replies = await client.pipeline([['SET', 'a', '1'], ['GET', 'slow'], ['GET', 'a'], ['APPEND', 'a', '2'], ['PING'], ['GET', 'a']])

  t.same(replies, [OK, bulkReply(null), bulkReply('1'), integerReply(2), simpleReply('PONG'), bulkReply('12')])
  t.same(server.backend.calls, ['put a', 'get slow', 'get a', 'append a', 'get a'])
  t.equal(server.backend.maxConcurrentCalls, 1)
})

t.test('a slow command on one connection does not hold up another connection', async (t) => {
  const server = await startServer(t, {}, { delayMs: (_operation, keys) => (keys[0] === 'slow' ? 300 : 0) })
  const slowClient = await server.connect()
  const fastClient = await server.connect()
  const finished: string[] = []

  const slow = slowClient.call('GET', 'slow').then(() => finished.push('slow'))
  await sleep(systemClock, 20)
  await fastClient.call('SET', 'fast', '1').then(() => finished.push('fast'))
  await slow

  t.same(finished, ['fast', 'slow'])
})

t.test('an unknown command is an error in Redis words and the connection stays usable', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  t.same(await client.call('NOSUCHCOMMAND'), errorReply('ERR', "unknown command 'NOSUCHCOMMAND', with args beginning with: "))
  t.same(await client.call('xyz', 'a', 'b c'), errorReply('ERR', "unknown command 'xyz', with args beginning with: 'a' 'b c' "))
  t.same(await client.call('PING'), simpleReply('PONG'))
})

t.test('a wrong number of arguments is an error in Redis words', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  t.same(await client.call('GET'), errorReply('ERR', "wrong number of arguments for 'get' command"))
  t.same(await client.call('get', 'a', 'b'), errorReply('ERR', "wrong number of arguments for 'get' command"))
  t.same(await client.call('DEL'), errorReply('ERR', "wrong number of arguments for 'del' command"))
  t.same(await client.call('PING', 'a', 'b'), errorReply('ERR', "wrong number of arguments for 'ping' command"))
  t.same(await client.call('CLIENT', 'SETNAME'), errorReply('ERR', "wrong number of arguments for 'client|setname' command"))
  t.same(await client.call('CLIENT', 'KILL', 'x'), errorReply('ERR', "unknown subcommand 'KILL'. Try CLIENT HELP."))
  t.same(server.backend.calls, [])
})

t.test('a value or key over its limit is refused without touching the backend', async (t) => {
  const server = await startServer(t, { maxValueBytes: 16, maxKeyBytes: 8 })
  const client = await server.connect()

  t.same(await client.call('SET', 'k', 'x'.repeat(17)), errorReply('ERR', 'value too large (17 bytes, max 16)'))
  t.same(await client.call('APPEND', 'k', 'x'.repeat(20)), errorReply('ERR', 'value too large (20 bytes, max 16)'))
  t.same(await client.call('GET', 'k'.repeat(9)), errorReply('ERR', 'key too large (9 bytes, max 8)'))
  t.same(server.backend.calls, [])
  t.same(await client.call('SET', 'k', 'x'.repeat(16)), OK, 'a value at the limit is accepted')
})

t.test('SET NX, XX and GET; SETNX, GETSET, GETDEL and STRLEN; bad expiry options and syntax refused before the backend', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  t.same(await client.call('SET', 'k', 'v', 'XX'), bulkReply(null), 'XX on a missing key writes nothing')
  t.same(await client.call('SET', 'k', 'v', 'nx'), OK, 'NX on a missing key writes')
  t.same(await client.call('SET', 'k', 'w', 'NX'), bulkReply(null), 'NX on an existing key does not')
  t.same(await client.call('SET', 'k', 'w', 'XX', 'GET'), bulkReply('v'), 'XX GET writes and returns the old value')
  t.same(await client.call('SET', 'k', 'z', 'NX', 'GET'), bulkReply('w'), 'NX GET returns the old value and writes nothing')
  t.same(await client.call('GET', 'k'), bulkReply('w'))
  t.same(await client.call('SETNX', 'k', 'x'), integerReply(0))
  t.same(await client.call('SETNX', 'n', 'x'), integerReply(1))
  t.same(await client.call('GETSET', 'n', 'y'), bulkReply('x'))
  t.same(await client.call('STRLEN', 'n'), integerReply(1))
  t.same(await client.call('STRLEN', 'missing'), integerReply(0))
  t.same(await client.call('GETDEL', 'n'), bulkReply('y'))
  t.same(await client.call('GETDEL', 'n'), bulkReply(null))
  const before = server.backend.calls.length
  for (const option of ['EX', 'PX', 'EXAT', 'PXAT']) {
    t.same(await client.call('SET', 'k', 'v', option, '0'), errorReply('ERR', "invalid expire time in 'set' command"), `SET ${option} 0 refused`)
    t.same(await client.call('SET', 'k', 'v', option, 'soon'), errorReply('ERR', 'value is not an integer or out of range'), `SET ${option} soon refused`)
    t.same(await client.call('SET', 'k', 'v', option), errorReply('ERR', 'syntax error'), `SET ${option} without an amount refused`)
  }
  t.same(await client.call('SET', 'k', 'v', 'EX', '10', 'KEEPTTL'), errorReply('ERR', 'syntax error'), 'two expiries')
  t.same(await client.call('SET', 'k', 'v', 'NX', 'XX'), errorReply('ERR', 'syntax error'), 'NX and XX together')
  t.same(await client.call('SET', 'k', 'v', 'SOMETIMES'), errorReply('ERR', 'syntax error'))
  t.equal(server.backend.calls.length, before, 'none of those reached the backend')
  t.same(await client.call('GET', 'k'), bulkReply('w'), 'and the value is as it was')
})

t.test('a backend failure is replied as -ERR, or with the prefix of a RespError, and the connection stays usable', async (t) => {
  const failures: Record<string, Error> = {
    broken: new Error('disk on fire'),
    elsewhere: new RespError('MOVED', '3999 127.0.0.1:6381'),
    election: new RespError('TRYAGAIN', 'no leader yet'),
  }
  const server = await startServer(t, {}, { failure: (_operation, keys) => failures[keys[0] ?? ''] })
  const client = await server.connect()

  t.same(await client.call('GET', 'broken'), errorReply('ERR', 'disk on fire'))
  t.same(await client.call('SET', 'elsewhere', 'v'), errorReply('MOVED', '3999 127.0.0.1:6381'))
  t.same(await client.call('DEL', 'election'), errorReply('TRYAGAIN', 'no leader yet'))
  t.same(await client.call('SET', 'k', 'v'), OK)
  t.same(
    server.logger.events.filter((event) => event.level === 'warn').map((event) => event.fields?.['reason']),
    ['disk on fire'],
    'only the unexpected failure is logged',
  )
})

t.test('a protocol error is replied and closes that connection only', async (t) => {
  const server = await startServer(t)
  const bad = await server.connect()
  const good = await server.connect()

  bad.writeRaw('PING\r\n*1\r\nxyz\r\nPING\r\n')

  t.same(await bad.nextReply(), simpleReply('PONG'), 'the command before the bad bytes is answered')
  t.same(await bad.nextReply(), errorReply('ERR', "Protocol error: expected '$', got 'x'"))
  await bad.closed
  t.equal(bad.unreadReplies, 0, 'nothing after the bad bytes is answered')
  t.same(await good.call('PING'), simpleReply('PONG'))
  t.same(
    server.logger.events.filter((event) => event.level === 'warn').map((event) => [event.message, event.fields?.['reason']]),
    [['closing client connection', "protocol error: expected '$', got 'x'"]],
  )
})

t.test('QUIT replies OK and closes the connection; commands pipelined after it are not run', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  client.writeRaw(Buffer.concat([encodeCommand(['QUIT']), encodeCommand(['SET', 'after', 'quit'])]))

  t.same(await client.nextReply(), OK)
  await client.closed
  t.same(server.backend.calls, [])
})

t.test('inline commands, as typed into telnet, work over TCP', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  client.writeRaw('PING\r\nSET k "a b"\r\nget k\n')

  t.same([await client.nextReply(), await client.nextReply(), await client.nextReply()], [simpleReply('PONG'), OK, bulkReply('a b')])
})

t.test('PING, ECHO, SELECT and CLIENT answer as Redis does', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  t.same(await client.call('PING'), simpleReply('PONG'))
  t.same(await client.call('PING', 'hi'), bulkReply('hi'))
  t.same(await client.call('ECHO', 'hello'), bulkReply('hello'))
  t.same(await client.call('SELECT', '0'), OK)
  t.same(await client.call('SELECT', '1'), errorReply('ERR', 'DB index is out of range'))
  t.same(await client.call('SELECT', 'one'), errorReply('ERR', 'value is not an integer or out of range'))
  t.same(await client.call('CLIENT', 'GETNAME'), bulkReply(null))
  t.same(await client.call('CLIENT', 'SETNAME', 'worker-1'), OK)
  t.same(await client.call('CLIENT', 'GETNAME'), bulkReply('worker-1'))
  t.same(await client.call('CLIENT', 'SETNAME', 'two words'), errorReply('ERR', 'Client names cannot contain spaces, newlines or special characters.'))
  t.same(await client.call('CLIENT', 'SETINFO', 'LIB-NAME', 'redis-py'), OK)
  t.same(await client.call('CLIENT', 'SETINFO', 'colour', 'blue'), errorReply('ERR', "Unrecognized option 'colour'"))
  const id = await client.call('CLIENT', 'ID')
  t.match(id, { kind: 'integer' })
  const info = await client.call('CLIENT', 'INFO')
  t.match(info.kind === 'bulk' ? info.value?.toString() : '', /^id=\d+ addr=127\.0\.0\.1:\d+ .*name=worker-1 db=0 lib-name=redis-py /)
})

t.test('HELLO 2 answers in RESP2, HELLO 3 switches the connection to RESP3, other versions get NOPROTO', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()

  t.same(await client.call('HELLO', '4'), errorReply('NOPROTO', 'unsupported protocol version'))
  const hello = await client.call('HELLO', '2', 'AUTH', 'default', 'secret', 'SETNAME', 'app')
  const id = await client.call('CLIENT', 'ID')
  t.same(
    hello,
    arrayReply([
      bulkReply('server'),
      bulkReply('lograft'),
      bulkReply('version'),
      bulkReply('7.0.0'),
      bulkReply('proto'),
      integerReply(2),
      bulkReply('id'),
      id,
      bulkReply('mode'),
      bulkReply('standalone'),
      bulkReply('role'),
      bulkReply('master'),
      bulkReply('modules'),
      arrayReply([]),
    ]),
    'in RESP2 the map is a flat array',
  )
  t.same(await client.call('CLIENT', 'GETNAME'), bulkReply('app'))
  t.same(await client.call('GET', 'missing'), bulkReply(null), 'RESP2 nil')

  t.same(
    await client.call('HELLO', '3'),
    mapReply([
      ['server', bulkReply('lograft')],
      ['version', bulkReply('7.0.0')],
      ['proto', integerReply(3)],
      ['id', id],
      ['mode', bulkReply('standalone')],
      ['role', bulkReply('master')],
      ['modules', arrayReply([])],
    ]),
    'in RESP3 a map',
  )
  t.same(await client.call('GET', 'missing'), NULL_REPLY, 'RESP3 null')
  t.same(await client.call('SET', 'k', 'v'), simpleReply('OK'))
  t.same(await client.call('GET', 'k'), bulkReply('v'))
  t.same(await client.call('CONFIG', 'GET', 'appendonly'), mapReply([['appendonly', bulkReply('no')]]))
  t.same(await client.call('COMMAND', 'DOCS'), mapReply([]))
  const info = await client.call('INFO', 'server')
  t.ok(info.kind === 'verbatim' && info.format === 'txt' && info.text.includes('server_name:lograft'), 'INFO is a verbatim string')
  t.same(await client.call('HELLO', '4'), errorReply('NOPROTO', 'unsupported protocol version'))
  t.same(await client.call('GET', 'missing'), NULL_REPLY, 'a refused HELLO leaves the protocol as it was')
  await client.call('HELLO', '2')
  t.same(await client.call('GET', 'missing'), bulkReply(null), 'HELLO 2 switches back')
})

t.test('INCR, DECR, INCRBY and DECRBY reach the backend with their delta, and bad deltas are refused as Redis does', async (t) => {
  const server = await startServer(t)
  const client = await server.connect()
  t.same(await client.call('INCR', 'n'), integerReply(1))
  t.same(await client.call('INCRBY', 'n', '41'), integerReply(42))
  t.same(await client.call('DECR', 'n'), integerReply(41))
  t.same(await client.call('DECRBY', 'n', '-9'), integerReply(50))
  t.same(await client.call('INCRBY', 'big', '9223372036854775807'), integerReply(9223372036854775807n), 'past 2^53 as an exact integer')
  for (const delta of ['abc', '1.5', '+1', '01', '9223372036854775808']) {
    t.same(await client.call('INCRBY', 'n', delta), errorReply('ERR', 'value is not an integer or out of range'), `INCRBY n ${delta}`)
  }
  t.same(await client.call('DECRBY', 'n', '-9223372036854775808'), errorReply('ERR', 'decrement would overflow'))
  t.same(await client.call('INCR'), errorReply('ERR', "wrong number of arguments for 'incr' command"))
  t.same(server.backend.calls, ['incr n', 'incr n', 'incr n', 'incr n', 'incr big'], 'refused commands never reach the backend')
})

t.test('COMMAND and CONFIG GET answer what redis-cli and redis-benchmark ask on connect', async (t) => {
  const server = await startServer(t, { maxClients: 77 })
  const client = await server.connect()

  t.same(await client.call('COMMAND', 'DOCS'), arrayReply([]), 'redis-cli: no argument hints (an empty map)')
  t.same(await client.call('CONFIG', 'GET', 'save'), arrayReply([bulkReply('save'), bulkReply('')]), 'redis-benchmark')
  t.same(await client.call('CONFIG', 'GET', 'appendonly'), arrayReply([bulkReply('appendonly'), bulkReply('no')]), 'redis-benchmark')
  t.same(await client.call('CONFIG', 'GET', 'maxc*'), arrayReply([bulkReply('maxclients'), bulkReply('77')]))
  t.same(await client.call('CONFIG', 'GET', 'no-such-parameter'), arrayReply([]))
  const count = await client.call('COMMAND', 'COUNT')
  const all = await client.call('COMMAND')
  t.equal(count.kind === 'integer' ? count.value : -1, all.kind === 'array' ? all.items?.length : -2)
  const info = await client.call('COMMAND', 'INFO', 'get', 'nope')
  const [getInfo, missing] = info.kind === 'array' ? (info.items ?? []) : []
  t.same(getInfo?.kind === 'array' ? getInfo.items?.slice(0, 6) : null, [
    bulkReply('get'),
    integerReply(2),
    arrayReply([simpleReply('readonly'), simpleReply('fast')]),
    integerReply(1),
    integerReply(1),
    integerReply(1),
  ])
  t.same(missing, bulkReply(null))
})

t.test("INFO joins the server's sections with the backend's, and picks sections by name", async (t) => {
  const server = await startServer(t, { info: { lograft_node: 'n1' } })
  const client = await server.connect()
  await client.call('SET', 'k', 'v')

  const everything = await client.call('INFO')
  const keyspace = await client.call('INFO', 'keyspace')

  const text = (reply: RespReply): string => (reply.kind === 'bulk' ? (reply.value?.toString() ?? '') : '')
  t.match(text(everything), /^# Server\r\nredis_version:7\.0\.0\r\n(.*\r\n)*lograft_node:n1\r\n\r\n# Clients\r\nconnected_clients:1\r\n/)
  t.match(text(everything), /\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n$/)
  t.equal(text(keyspace), '# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n')
})

t.test('a client that does not read its replies is throttled rather than buffered without bound', async (t) => {
  const server = await startServer(t, { maxPipelinedCommands: 8 })
  const client = await server.connect()
  await client.call('SET', 'big', 'x'.repeat(64 * 1024))
  client.socket.pause()
  const requests: Word[][] = Array.from({ length: 1000 }, () => ['GET', 'big'])

  client.writeRaw(Buffer.concat(requests.map(encodeCommand)))
  await sleep(systemClock, 300)
  const servedWhilePaused = server.backend.calls.length
  await sleep(systemClock, 200)

  t.equal(server.backend.calls.length, servedWhilePaused, 'the server stopped running commands')
  t.ok(servedWhilePaused < 500, `only ${servedWhilePaused} of 1001 ran before the output backed up`)
  client.socket.resume()
  const replies = await Promise.all(requests.map(() => client.nextReply()))
  t.equal(replies.filter((reply) => reply.kind === 'bulk' && reply.value?.length === 64 * 1024).length, 1000)
})

t.test('redis-cli can set, get, append, del, exists, ping and info', async (t) => {
  const server = await startServer(t)
  const cli = async (...words: string[]): Promise<string> => (await run('redis-cli', ['-p', String(server.port), ...words])).stdout

  t.equal(await cli('ping'), 'PONG\n')
  t.equal(await cli('set', 'k', 'v'), 'OK\n')
  t.equal(await cli('get', 'k'), 'v\n')
  t.equal(await cli('append', 'k', 'xyz'), '4\n')
  t.equal(await cli('exists', 'k', 'nope'), '1\n')
  t.equal(await cli('del', 'k'), '1\n')
  t.equal(await cli('get', 'k'), '\n')
  t.match(await cli('info'), /^# Server\r?\nredis_version:7\.0\.0/)
  t.match(await cli('frobnicate'), /^ERR unknown command 'frobnicate'/)
  t.same(
    server.logger.events.filter((event) => event.level !== 'info'),
    [],
  )
})

t.test('redis-benchmark runs SET and GET to completion without errors', async (t) => {
  const server = await startServer(t)
  const bench = async (...extra: string[]): Promise<string> =>
    (await run('redis-benchmark', ['-p', String(server.port), '-t', 'set,get', '-n', '2000', '-q', ...extra], { timeout: 60_000 })).stdout

  const plain = await bench()
  const pipelined = await bench('-P', '16')

  for (const output of [plain, pipelined]) {
    t.match(output, /SET: [\d.]+ requests per second/)
    t.match(output, /GET: [\d.]+ requests per second/)
    t.notMatch(output, /error|ERR/i)
  }
  t.equal(server.backend.state.getString('key:__rand_int__')?.length, 3, 'the benchmark wrote its fixed key with a 3-byte value')
  t.same(
    server.logger.events.filter((event) => event.level !== 'info'),
    [],
  )
})

t.test('MULTI queues data commands and EXEC sends them as one transaction; errors as Redis places them', async (t) => {
  const server = await startServer(t, { maxValueBytes: 64 })
  const client = await server.connect()
  t.same(await client.call('MULTI'), OK)
  t.same(await client.call('SET', 'a', '1'), simpleReply('QUEUED'))
  t.same(await client.call('INCR', 'a'), simpleReply('QUEUED'))
  t.same(await client.call('SET', 'a', '1', 'BOGUS'), simpleReply('QUEUED'), 'a bad option is queued as its error')
  t.same(await client.call('MULTI'), errorReply('ERR', 'MULTI calls can not be nested'))
  t.same(await client.call('EXEC'), arrayReply([OK, integerReply(2), errorReply('ERR', 'syntax error')]))
  t.same(server.backend.calls, ['multi a a'], 'one backend call for the whole transaction')

  t.same(await client.call('MULTI'), OK)
  t.same(await client.call('NOSUCHCOMMAND'), errorReply('ERR', "unknown command 'NOSUCHCOMMAND', with args beginning with: "))
  t.same(await client.call('SET', 'a', '9'), simpleReply('QUEUED'))
  t.same(await client.call('EXEC'), errorReply('EXECABORT', 'Transaction discarded because of previous errors.'))
  t.same(await client.call('GET', 'a'), bulkReply('2'), 'an aborted transaction wrote nothing')
  t.same(await client.call('EXEC'), errorReply('ERR', 'EXEC without MULTI'))
  t.same(await client.call('DISCARD'), errorReply('ERR', 'DISCARD without MULTI'))

  t.same(await client.call('MULTI'), OK)
  t.same(await client.call('SET', 'k0', 'v'.repeat(20)), simpleReply('QUEUED'))
  t.same(await client.call('SET', 'k1', 'v'.repeat(20)), simpleReply('QUEUED'))
  t.same(
    await client.call('SET', 'k2', 'v'.repeat(20)),
    errorReply('ERR', 'a transaction carries at most 64 bytes of keys and values (the largest value allowed)'),
    'the command that takes the transaction past the value limit is refused',
  )
  t.same(
    await client.call('EXEC'),
    errorReply('EXECABORT', 'Transaction discarded because of previous errors.'),
    'a transaction past the value limit in all is refused',
  )
  t.same(await client.call('EXISTS', 'k0'), integerReply(0))
})

t.test('WATCH: EXEC runs nothing once a watched key changed', async (t) => {
  const server = await startServer(t)
  const [mine, other] = [await server.connect(), await server.connect()]
  await mine.call('SET', 'lock', 'token-1')
  t.same(await mine.call('WATCH', 'lock'), OK)
  await other.call('SET', 'lock', 'token-2')
  await mine.call('MULTI')
  await mine.call('DEL', 'lock')
  t.same(await mine.call('EXEC'), arrayReply(null), 'the lock changed hands: the DEL did not run')
  t.same(await mine.call('GET', 'lock'), bulkReply('token-2'))
  t.same(await mine.call('WATCH', 'lock'), OK)
  await mine.call('MULTI')
  t.same(await mine.call('WATCH', 'x'), errorReply('ERR', 'WATCH inside MULTI is not allowed'))
  await mine.call('DEL', 'lock')
  t.same(await mine.call('EXEC'), arrayReply([integerReply(1)]), 'unchanged: the compare-and-delete ran')
})

t.test("a client's pipelined commands reach a batching backend together, each with its own reply in order", async (t) => {
  const server = await startServer(t, {}, { batches: true })
  const client = await server.connect()
  const pipeline = [
    ['SET', 'a', '1'],
    ['INCR', 'a'],
    ['SET', 'b', '1', 'BOGUS'],
    ['APPEND', 'b', 'x'],
    ['GET', 'a'],
    ['INCR', 'a'],
    ['DEL', 'b'],
    ['MULTI'],
    ['GET', 'a'],
    ['EXEC'],
  ]
  t.same(await client.pipeline(pipeline), [
    OK,
    integerReply(2),
    errorReply('ERR', 'syntax error'),
    integerReply(1),
    bulkReply('2'),
    integerReply(3),
    integerReply(1),
    OK,
    simpleReply('QUEUED'),
    arrayReply([bulkReply('3')]),
  ])
  t.same(server.backend.calls, ['multi a a b a a b', 'multi a'], 'the commands up to MULTI in one call (the refused SET not sent); the transaction in another')
})
