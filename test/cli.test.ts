// The lograft command line refuses bad input with one clear line and a non-zero exit, and its log
// tools read a node's data directory.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { openDiskLog } from '../src/log/backends.js'
import { envelopeCodec } from '../src/statemachine/envelope.js'
import { type KvCommand, kvCommandCodec } from '../src/kv/kv.js'

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))

interface Run {
  code: number
  stdout: string
  stderr: string
}

function lograft(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

function temporaryDirectory(t: Test): string {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-cli-'))
  t.teardown(() => rmSync(directory, { recursive: true, force: true }))
  return directory
}

t.test('an unknown command or flag is a usage error (exit 2) that shows the usage', async (t) => {
  const unknown = await lograft('frobnicate')
  t.equal(unknown.code, 2)
  t.match(unknown.stderr, /unknown command "frobnicate"/)
  t.match(unknown.stderr, /usage: lograft/)
  const flag = await lograft('node', '--id', '1', '--bogus')
  t.equal(flag.code, 2)
  t.match(flag.stderr, /Unknown option '--bogus'/)
})

t.test('a malformed --peers is refused with what is wrong', async (t) => {
  const data = temporaryDirectory(t)
  const cases: Array<[string, RegExp]> = [
    ['1=127.0.0.1', /"127.0.0.1" is not a host:port address/],
    ['1=127.0.0.1:7101,1=127.0.0.1:7102', /peer 1 is listed twice/],
    ['oops', /malformed peer "oops"/],
    ['2=127.0.0.1:7102', /node 1 is not in the peer list/],
  ]
  for (const [peers, message] of cases) {
    const run = await lograft('node', '--id', '1', '--peers', peers, '--data', data)
    t.not(run.code, 0, `${peers}: non-zero exit`)
    t.match(run.stderr, message, `${peers}: ${message}`)
  }
})

t.test('a port already in use is refused with a clear message', async (t) => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as net.AddressInfo).port
  const run = await lograft('node', '--id', '1', '--peers', `1=127.0.0.1:${port}`, '--data', temporaryDirectory(t), '--cluster-id', 'c1')
  t.equal(run.code, 1)
  t.match(run.stderr, new RegExp(`cannot listen on 127.0.0.1:${port}: the port is already in use`))
})

t.test('a data directory that belongs to another node or cluster is refused', async (t) => {
  const data = temporaryDirectory(t)
  const store = await openDiskLog(data, { identity: { clusterId: 'c0ffee', nodeId: '1' } })
  await store.close()
  const otherNode = await lograft('node', '--id', '2', '--peers', '2=127.0.0.1:1', '--data', data)
  t.equal(otherNode.code, 1)
  t.match(otherNode.stderr, /belongs to node 1 of cluster c0ffee, not node 2/)
  const otherCluster = await lograft('node', '--id', '1', '--peers', '1=127.0.0.1:1', '--data', data, '--cluster-id', 'prod')
  t.equal(otherCluster.code, 1)
  t.match(otherCluster.stderr, /belongs to node 1 of cluster c0ffee, not node 1 of cluster prod/)
  t.equal(otherCluster.stderr.trim().split('\n').length, 1, 'in one line')
})

t.test('a new data directory needs --cluster-id, and the error offers a fresh random one', async (t) => {
  const run = await lograft('node', '--id', '1', '--peers', '1=127.0.0.1:1', '--data', join(temporaryDirectory(t), 'new'))
  t.equal(run.code, 1)
  t.match(run.stderr, /is new and no cluster id was given: give every founding member of a new cluster the same id \(e.g. --cluster-id [0-9a-f]{16}/)
})

t.test('log replay shows hashes, deadlines and log time, and which keys had expired', async (t) => {
  const data = temporaryDirectory(t)
  const store = await openDiskLog(data, { identity: { clusterId: 'c0ffee', nodeId: '1' } })
  const commands: Array<{ timeMs: number; command: KvCommand }> = [
    { timeMs: 1000, command: { op: 'put', key: 'later', value: 'v', expiry: { kind: 'at', ms: 9_000_000_000_000 } } },
    { timeMs: 1000, command: { op: 'put', key: 'soon', value: 'w', expiry: { kind: 'in', ms: 10 } } },
    { timeMs: 1500, command: { op: 'hset', key: 'h', value: '', fields: ['f'], values: ['1'] } },
  ]
  await store.write({
    hardState: { term: 1, votedFor: '1', commitIndex: commands.length },
    entries: commands.map(({ timeMs, command }, i) => ({
      index: i + 1,
      term: 1,
      type: 0,
      data: envelopeCodec.encode({ clientId: 7, sequence: i + 1, timeMs, command: kvCommandCodec.encode(command) }),
    })),
  })
  await store.close()
  const json = JSON.parse((await lograft('log', 'replay', data, '--json')).stdout)
  t.same(json.state, { later: 'v', soon: 'w', h: { f: '1' } })
  t.same(json.expires, { later: 9_000_000_000_000, soon: 1010 })
  t.equal(json.logTimeMs, 1500)
  const inspect = (await lograft('log', 'inspect', data)).stdout
  t.match(inspect, /put\s+"soon" = "w" PX 10/, 'log inspect shows the expiry')
  t.match(inspect, /hset\s+"h" \{"f"\}/, 'and a hash op its fields')
  const text = (await lograft('log', 'replay', data)).stdout
  t.match(text, /"soon" = "w" \(expired\)/, 'the listing says soon had expired by log time')
  t.match(text, /"h" = hash \{"f": "1"\}/)
  t.match((await lograft('log', 'replay', data, '--key', 'soon')).stdout, /no key "soon" at index 3/, 'and --key sees it missing')
})

t.test('log inspect decodes entries and log replay folds the log up to an index', async (t) => {
  const data = temporaryDirectory(t)
  const store = await openDiskLog(data, { identity: { clusterId: 'c0ffee', nodeId: '1' } })
  const commands = [
    { op: 'put', key: 'a', value: 'one' },
    { op: 'append', key: 'a', value: '+two' },
    { op: 'put', key: 'b', value: 'bee' },
    { op: 'delete', key: 'b', value: '' },
  ] as const
  await store.write({
    hardState: { term: 1, votedFor: '1', commitIndex: commands.length },
    entries: commands.map((command, i) => ({
      index: i + 1,
      term: 1,
      type: 0,
      data: envelopeCodec.encode({ clientId: 7, sequence: i + 1, timeMs: 0, command: kvCommandCodec.encode(command) }),
    })),
  })
  await store.close()
  const inspect = await lograft('log', 'inspect', data)
  t.equal(inspect.code, 0)
  t.match(inspect.stdout, /node 1 of cluster c0ffee, incarnation [0-9a-f]{16}/)
  t.match(inspect.stdout, /term 1, voted for 1, commit 4/)
  t.match(inspect.stdout, /2\s+1\s+command\s+7\s+2\s+append\s+"a" = "\+two"/)
  const atTwo = await lograft('log', 'replay', data, '--to', '2', '--key', 'a')
  t.equal(atTwo.stdout.trim(), 'one+two', 'a at index 2')
  const atThree = await lograft('log', 'replay', data, '--to', '3', '--json')
  t.same(JSON.parse(atThree.stdout).state, { a: 'one+two', b: 'bee' }, 'the whole state at index 3')
  t.same(JSON.parse(atThree.stdout).expires, {}, 'no key has a time to live')
  const atFour = await lograft('log', 'replay', data, '--to', '4', '--key', 'b')
  t.match(atFour.stdout, /no key "b" at index 4/, 'b was deleted at index 4')
  const tooFar = await lograft('log', 'replay', data, '--to', '9')
  t.not(tooFar.code, 0)
  t.match(tooFar.stderr, /index 9 is past the end of the log \(last index 4\)/)
})

t.test('log inspect and log replay of a directory that holds no data refuse it and leave it as it was', async (t) => {
  const parent = temporaryDirectory(t)
  const missing = join(parent, 'no-such-dir')
  for (const command of ['inspect', 'replay']) {
    const run = await lograft('log', command, missing)
    t.equal(run.code, 1, `log ${command} of a missing directory fails`)
    t.match(run.stderr, new RegExp(`no data directory at ${missing}`), 'and says so')
    t.notOk(existsSync(missing), 'without creating it')
  }
  const unrelated = join(parent, 'photos')
  mkdirSync(unrelated)
  writeFileSync(join(unrelated, 'cat.jpg'), 'not a database')
  for (const command of ['inspect', 'replay']) {
    const run = await lograft('log', command, unrelated)
    t.equal(run.code, 1, `log ${command} of a directory that is no database fails`)
    t.match(run.stderr, new RegExp(`no data directory at ${unrelated}`), 'and says so')
    t.same(readdirSync(unrelated), ['cat.jpg'], 'without writing a database into it')
  }
})

t.test('a node or log tool on a data directory another process holds says so, and so for a file', async (t) => {
  const data = temporaryDirectory(t)
  const held = await openDiskLog(data)
  t.teardown(() => held.close())
  const node = await lograft('node', '--id', '1', '--data', data, '--peers', '1=127.0.0.1:1', '--cluster-id', 'c0ffee')
  t.equal(node.code, 1, 'a second node on the directory stops')
  t.match(node.stderr, new RegExp(`data directory ${data} is in use by another process`), 'naming the directory and why')
  const inspect = await lograft('log', 'inspect', data)
  t.equal(inspect.code, 1)
  t.match(inspect.stderr, /is in use by another process/, 'log inspect of a running node says the same')
  const file = join(data, '..', `${data.split('/').pop() ?? 'x'}.file`)
  writeFileSync(file, 'x')
  t.teardown(() => rmSync(file, { force: true }))
  const onFile = await lograft('node', '--id', '1', '--data', file, '--peers', '1=127.0.0.1:1', '--cluster-id', 'c0ffee')
  t.equal(onFile.code, 1)
  t.match(onFile.stderr, /cannot open data directory .*: it is a file, not a directory/)
})
