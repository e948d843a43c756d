// A node that lost its state is detected and refused, never silently re-admitted (issue 11,
// finding 4), against real `lograft node` processes: a follower whose data directory was wiped,
// and one whose newest LevelDB .log was truncated after a kill. Plus the start-up check: a store
// whose hard state commits past its log refuses to start, naming what is missing.

import { readdirSync, rmSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { openDiskLog, openMemoryLog } from '../src/log/index.js'
import { RaftNode } from '../src/raft/node.js'
import type { Transport } from '../src/rpc/transport.js'
import { makeTempDir } from './helpers/log.js'
import { eventually, infoFields, lograft, pause, respCommand, respPort, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

const WRITES = 300

t.test('a follower whose data directory was wiped is refused by every member, told why, and the cluster goes on', async (t) => {
  const exits: string[] = []
  const kv = await startKvCluster(3, { onExit: (id, code, signal, lastError) => exits.push(`${id} ${signal ?? code}: ${lastError ?? ''}`) })
  t.teardown(() => kv.stop(false))
  const leader = await waitForLeader(kv.cluster, 15_000)
  if (!leader) throw new Error('no leader')
  for (let i = 0; i < WRITES; i++) await respCommand(respPort(leader), 'SET', `k${i % 20}`, `v${i}`)
  const wiped = kv.nodes.find((node) => node.id !== leader.id)
  if (!wiped) throw new Error('no follower')
  await pause(300) // Let the follower acknowledge everything.

  await kv.cluster.kill(wiped.id)
  rmSync(wiped.dataDirectory, { recursive: true, force: true })
  const started = kv.cluster.start(wiped.id)
  await started

  const leaderRefuses = new RegExp(`ERROR refused a peer that lost its state peer="${wiped.id}"`)
  t.ok(await eventually(() => leaderRefuses.test(kv.cluster.recentLog(leader.id))), 'the leader refuses it, saying so')
  const told = /ERROR cannot use the connection to peer .*came back with another data directory .*remove it from the cluster and add it back/
  t.ok(await eventually(() => told.test(kv.cluster.recentLog(wiped.id))), 'and the wiped node is told why')
  await pause(1000)
  const wipedInfo = await infoFields(respPort(wiped))
  t.equal(wipedInfo?.get('leader'), '', 'the wiped node follows no leader')
  t.equal(wipedInfo?.get('commit_index'), '0', 'and is not caught up: nobody talks to it')
  for (let i = 0; i < 20; i++) t.equal(await respCommand(respPort(leader), 'GET', `k${i}`), `v${WRITES - 20 + i}`, `k${i} is intact`)
  t.equal(await respCommand(respPort(leader), 'SET', 'after', 'wipe'), 'OK', 'the other two still make a quorum')
  t.same(
    exits.filter((exit) => !exit.includes('SIGKILL')),
    [],
    'nobody exited',
  )
})

t.test('a follower whose newest LevelDB .log was truncated is found by the leader, stops, and refuses to start again', async (t) => {
  const exits: string[] = []
  const kv = await startKvCluster(3, { onExit: (id, code, signal, lastError) => exits.push(`${id} ${signal ?? code}: ${lastError ?? ''}`) })
  t.teardown(() => kv.stop(false))
  const leader = await waitForLeader(kv.cluster, 15_000)
  if (!leader) throw new Error('no leader')
  const damaged = kv.nodes.find((node) => node.id !== leader.id)
  if (!damaged) throw new Error('no follower')
  for (let i = 0; i < WRITES; i++) await respCommand(respPort(leader), 'SET', `k${i % 20}`, `v${i}`)
  await pause(300)

  await kv.cluster.kill(damaged.id)
  const logs = readdirSync(damaged.dataDirectory)
    .filter((name) => name.endsWith('.log') && name !== 'LOG')
    .sort()
  const newest = join(damaged.dataDirectory, logs[logs.length - 1] ?? '')
  truncateSync(newest, Math.floor(statSync(newest).size / 2))
  await kv.cluster.start(damaged.id)

  t.ok(await eventually(() => exits.some((exit) => exit.startsWith(`${damaged.id} 1:`))), 'the damaged node exits non-zero')
  t.match(
    exits.join('\n'),
    new RegExp(`${damaged.id} 1: lograft: node ${damaged.id} lost state the cluster relies on: leader ${leader.id} \\(term \\d+\\) found its log shorter`),
  )
  await t.rejects(
    kv.cluster.start(damaged.id),
    { message: /its data directory was marked: .*Remove it from the cluster and add it back/ },
    'it refuses to start on the marked directory',
  )
  t.equal(await respCommand(respPort(leader), 'SET', 'after', 'truncation'), 'OK', 'the cluster goes on')
})

t.test('a store whose hard state commits past its log refuses to start, naming the missing entries', async (t) => {
  const store = await openMemoryLog()
  await store.write({
    hardState: { term: 2, votedFor: 'a', commitIndex: 9 },
    entries: [1, 2, 3, 4].map((index) => ({ index, term: 2, type: 0, data: new Uint8Array() })),
  })
  // create() refuses before it touches the network; this transport is never used.
  const transport: Transport = { self: 'a', register: () => {}, call: () => Promise.reject(new Error('unused')), close: async () => {} }
  await t.rejects(RaftNode.create({ id: 'a', members: ['a'], transport, store }), {
    code: 'ERR_RAFT_LOST_STATE',
    message: /index 9 is committed but its log ends at 4; entries 5..9 are missing/,
  })
})

t.test('lograft node refuses such a directory with one line, and log inspect shows a lost-state mark', async (t) => {
  const data = makeTempDir('lost-state')
  t.teardown(() => data.remove())
  const store = await openDiskLog(data.path, { identity: { clusterId: 'c1', nodeId: '1' } })
  await store.write({ hardState: { term: 1, votedFor: '1', commitIndex: 5 }, entries: [{ index: 1, term: 1, type: 1, data: new Uint8Array() }] })
  await store.markLostState('leader 2 (term 1) found its log shorter than what it had acknowledged')
  await store.close()
  const run = await lograft('node', '--id', '1', '--peers', '1=127.0.0.1:1', '--data', data.path)
  t.equal(run.code, 1)
  t.match(run.stderr, /^lograft: node 1 lost state the cluster relies on: its data directory was marked/)
  const inspect = await lograft('log', 'inspect', data.path)
  t.match(inspect.stdout, /LOST STATE\s+leader 2 \(term 1\) found its log shorter/)
})
