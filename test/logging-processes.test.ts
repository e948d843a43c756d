// A node's log (issue 14): with --log-format json every line is one JSON object (pino) with a
// level name, time, the node's id and the event's fields; leader elections, configuration changes
// and snapshots are there at info; --log-level warn leaves them out; bad values of either flag are
// refused in one line.

import { join } from 'node:path'
import t from 'tap'
import { ProcessSupervisor } from '../src/cli/supervisor.js'
import { freePortBlock, lograft, respCommand } from './helpers/kv-processes.js'
import { makeTempDir } from './helpers/log.js'

t.setTimeout(60_000)

const data = makeTempDir('logging')
const supervisor = new ProcessSupervisor()
t.teardown(async () => {
  await supervisor.stopAll()
  data.remove()
})

interface Line {
  level: string
  time: string
  msg: string
  node?: string
  [field: string]: unknown
}

async function startNode(id: string, extra: readonly string[]): Promise<number> {
  const [raft, resp] = [await freePortBlock(1), await freePortBlock(1)]
  await supervisor.start({
    id,
    args: [
      'node',
      '--id',
      '1',
      '--peers',
      `1=127.0.0.1:${raft}`,
      '--cluster-id',
      `logging-${id}`,
      '--data',
      join(data.path, id),
      '--resp',
      `127.0.0.1:${resp}`,
      ...extra,
    ],
    readyText: 'lograft node 1 ready',
    dataDirectory: join(data.path, id),
  })
  return resp
}

t.test('json lines carry the level, time, node and fields of each event', async (t) => {
  const resp = await startNode('json', ['--log-format', 'json', '--max-raft-state', '2000'])
  for (let i = 0; i < 40; i++) t.equal(await respCommand(resp, 'SET', `key${i}`, 'v'.repeat(100)), 'OK')
  await supervisor.stopAll()
  const lines = supervisor
    .recentErrorOutput('json')
    .split('\n')
    .filter((line) => line !== '')
  const parsed = lines.map((line) => JSON.parse(line) as Line)
  t.ok(parsed.length > 0, `${parsed.length} lines, each one JSON object`)
  t.ok(
    parsed.every((line) => typeof line.level === 'string' && !Number.isNaN(Date.parse(line.time)) && line.node === '1'),
    'each with a level name, an ISO time and the node',
  )
  const elected = parsed.find((line) => line.msg === 'leader elected')
  t.match(elected, { level: 'info', term: Number, leader: '1' }, 'the election, with its term and leader')
  t.ok(
    parsed.some((line) => line.msg === 'snapshot stored' && typeof line.index === 'number' && typeof line.bytes === 'number'),
    'snapshots, with their index and size',
  )
})

t.test('--log-level warn leaves out the info lines', async (t) => {
  await startNode('quiet', ['--log-format', 'json', '--log-level', 'warn'])
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await supervisor.stopAll()
  const lines = supervisor
    .recentErrorOutput('quiet')
    .split('\n')
    .filter((line) => line !== '')
  t.notOk(
    lines.some((line) => (JSON.parse(line) as Line).level === 'info'),
    'no info line',
  )
})

t.test('bad values are refused in one line', async (t) => {
  for (const [flag, value, expected] of [
    ['--log-format', 'xml', /--log-format is text or json, not "xml"/],
    ['--log-level', 'debug', /--log-level is one of info, warn, error, not "debug"/],
  ] as const) {
    const run = await lograft('node', '--id', '1', '--data', join(data.path, 'never'), flag, value)
    t.equal(run.code, 2, `${flag} ${value} is a usage error`)
    t.match(run.stderr, expected)
  }
})
