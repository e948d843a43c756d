// The stock Redis tools against three `lograft node` processes: redis-cli round trips through any
// node (reads go through the leader, so every node answers with the latest write), errors that
// leave the connection usable, the value size limit, binary values, and a short redis-benchmark.

import { randomBytes } from 'node:crypto'
import t from 'tap'
import { RespClient } from '../src/resp/client.js'
import { ErrorReply, type ToolRun, infoFields, respPort, runTool, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

const MAX_VALUE_BYTES = 1024
const LEADER_TIMEOUT_MS = 15_000

const kv = await startKvCluster(3, { extraArgs: ['--max-value-bytes', String(MAX_VALUE_BYTES)] })
t.teardown(async () => {
  if (!t.passing()) t.comment(`node data directories kept in ${kv.dataDirectory}`)
  await kv.stop(!t.passing())
})
const ports = kv.nodes.map(respPort)
const [first, second, third] = ports as [number, number, number]
if (!(await waitForLeader(kv.cluster, LEADER_TIMEOUT_MS))) throw new Error(`no leader within ${LEADER_TIMEOUT_MS} ms of start`)

/** `redis-cli -p PORT ARGS` with `stdin`; each reply on its own line, as redis-cli prints them when not on a terminal. */
function redisCli(port: number, args: readonly string[], stdin: string | Buffer = ''): Promise<ToolRun> {
  return runTool('redis-cli', ['-p', String(port), ...args], stdin)
}

/** The printed replies of one redis-cli run, without the blank line it prints after an error. */
function printedLines(run: ToolRun): string[] {
  return run.stdout
    .toString('latin1')
    .split('\n')
    .filter((line) => line !== '')
}

/** GET through a RESP client rather than redis-cli: the exact bytes, and nil apart from empty. */
async function readThrough(port: number, key: string): Promise<Buffer | null> {
  const client = await RespClient.connect(port)
  try {
    const reply = await client.call('GET', key)
    if (reply.kind === 'error') throw new ErrorReply(reply)
    return reply.kind === 'bulk' && reply.value !== null ? Buffer.from(reply.value) : null
  } finally {
    await client.close()
  }
}

t.test('SET through one node is read back by GET through every node', async (t) => {
  const set = await redisCli(first, ['SET', 'greeting', 'hello'])
  t.equal(set.stdout.toString(), 'OK\n', set.stderr)
  for (const port of ports) t.equal((await redisCli(port, ['GET', 'greeting'])).stdout.toString(), 'hello\n', `GET through port ${port}`)
})

t.test('APPEND returns the new length; DEL and EXISTS see the key come and go', async (t) => {
  t.same(printedLines(await redisCli(second, [], 'APPEND log abc\nAPPEND log defg\n')), ['3', '7'])
  t.equal((await redisCli(third, ['GET', 'log'])).stdout.toString(), 'abcdefg\n')
  t.same(printedLines(await redisCli(first, [], 'EXISTS log missing\nDEL log missing\nEXISTS log\nDEL log\n')), ['1', '1', '0', '0'])
  t.equal((await redisCli(second, ['EXISTS', 'log'])).stdout.toString(), '0\n', 'deleted as seen from another node')
})

t.test('PING and ECHO answer, and INFO shows the role, term, leader and commit index on every node', async (t) => {
  t.same(printedLines(await redisCli(first, [], 'PING\nECHO "two words"\n')), ['PONG', 'two words'])
  await redisCli(first, ['SET', 'committed', '1'])
  const infos = await Promise.all(ports.map(infoFields))
  const leaders = new Set(infos.map((info) => info?.get('leader')))
  t.equal(leaders.size, 1, `every node names the same leader: ${[...leaders].join(', ')}`)
  const leaderId = [...leaders][0]
  infos.forEach((info, i) => {
    const id = kv.nodes[i]?.id
    t.equal(info?.get('role'), id === leaderId ? 'leader' : 'follower', `node ${id}'s role`)
    t.match(info?.get('term') ?? '', /^[1-9]\d*$/, `node ${id}'s term`)
    t.match(info?.get('commit_index') ?? '', /^[1-9]\d*$/, `node ${id}'s commit index`)
  })
  const text = (await redisCli(first, ['INFO', 'replication'])).stdout.toString()
  t.match(text, /^# Replication\r?\n(?:.*\r?\n)*role:(leader|follower)\r?\n/, 'redis-cli INFO replication prints the section')
})

t.test('an unknown command answers an error and the same connection keeps working', async (t) => {
  const run = await redisCli(second, [], 'SET before 1\nNOSUCHCOMMAND a b\nGET before\nSET after 2\nGET after\n')
  const lines = printedLines(run)
  t.equal(lines.length, 5, `one reply per command: ${JSON.stringify(lines)}`)
  t.match(lines[1], /^ERR unknown command 'NOSUCHCOMMAND'/, 'the unknown command gets an error')
  t.same([lines[0], lines[2], lines[3], lines[4]], ['OK', '1', 'OK', '2'], 'the commands around it are answered')
})

t.test('a value over --max-value-bytes is refused with an error and nothing is written', async (t) => {
  const tooLarge = await redisCli(first, ['-x', 'SET', 'big'], randomBytes(MAX_VALUE_BYTES + 1))
  t.match(tooLarge.stdout.toString(), new RegExp(`^ERR value too large \\(${MAX_VALUE_BYTES + 1} bytes, max ${MAX_VALUE_BYTES}\\)`))
  t.equal(await readThrough(second, 'big'), null, 'no value was stored')
  const atLimit = await redisCli(first, ['-x', 'SET', 'big'], randomBytes(MAX_VALUE_BYTES))
  t.equal(atLimit.stdout.toString(), 'OK\n', 'a value of exactly the limit is accepted')
  t.equal((await readThrough(third, 'big'))?.length, MAX_VALUE_BYTES)
})

t.test('random bytes round-trip unchanged through redis-cli -x SET and GET --raw', async (t) => {
  // Every byte value (CR, LF and NUL included), then random bytes.
  const value = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, byte) => byte)), randomBytes(700)])
  t.equal((await redisCli(third, ['-x', 'SET', 'binary'], value)).stdout.toString(), 'OK\n')
  const raw = (await redisCli(first, ['--raw', 'GET', 'binary'])).stdout
  t.ok(raw.equals(Buffer.concat([value, Buffer.from('\n')])), 'redis-cli --raw prints the bytes and a newline')
  t.ok((await readThrough(second, 'binary'))?.equals(value), 'a RESP client on another node reads the same bytes')
})

t.test('a short redis-benchmark of SET and GET completes without errors, and its key is readable', async (t) => {
  const run = await runTool('redis-benchmark', ['-p', String(second), '-t', 'set,get', '-n', '2000', '-c', '16', '-q'])
  const output = run.stdout.toString()
  t.equal(run.code, 0, run.stderr)
  t.notMatch(output, /error/i, 'no errors reported')
  for (const command of ['SET', 'GET']) {
    const rate = new RegExp(`${command}: ([\\d.]+) requests per second`).exec(output)
    t.ok(rate && Number(rate[1]) > 0, `${command} requests per second reported`)
    if (rate) t.comment(`redis-benchmark ${command}: ${rate[1]} requests/s`)
  }
  // Without -r every request uses the one key "key:__rand_int__"; -d (value size) defaults to 3 bytes.
  t.equal((await readThrough(third, 'key:__rand_int__'))?.length, 3, "the benchmark's 3-byte value is stored")
})
