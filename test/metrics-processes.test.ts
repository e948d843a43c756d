// Monitoring a real 3-process `lograft node` cluster over HTTP (issue 14), scraped with fetch as
// Prometheus would: a frozen follower's lag rises on the leader and falls back once it runs again;
// the leader is SIGKILLed and the survivors show the term rise and a new leader; /readyz turns
// false on a node cut off from the others (both frozen with SIGSTOP) and true again; /healthz,
// unknown paths and other methods answer as documented. `lograft status` shows the same cluster as a
// table and as JSON, the killed node as unreachable.

import { spawn } from 'node:child_process'
import t from 'tap'
import {
  type KvProcessCluster,
  LOGRAFT_MAIN,
  eventually,
  freePortBlock,
  lograft,
  respCommand,
  respPort,
  startKvCluster,
  waitForLeader,
} from './helpers/kv-processes.js'

t.setTimeout(120_000)

const ports = await freePortBlock(3)
const metricsPort = (id: string): number => ports + Number(id) - 1
const kv: KvProcessCluster = await startKvCluster(3, { nodeArgs: (id) => ['--metrics', `127.0.0.1:${metricsPort(id)}`] })
t.teardown(async () => {
  for (const node of kv.nodes) kv.cluster.resume(node.id)
  await kv.stop(!t.passing())
})

/** One scrape of /metrics: each series (name and labels, as printed) with its value. */
async function scrape(id: string): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${metricsPort(id)}/metrics`)
  const series = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const split = line.lastIndexOf(' ')
    series.set(line.slice(0, split), Number(line.slice(split + 1)))
  }
  return series
}

/** The value of a lograft series on node `id`, matched by name and the labels given (node="id" is added). */
function value(series: Map<string, number>, id: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries({ ...labels, node: id }).map(([key, text]) => `${key}="${text}"`)
  for (const [key, number] of series) {
    if (!key.startsWith(`${name}{`)) continue
    if (wanted.every((pair) => key.includes(pair))) return number
  }
  return undefined
}

async function readyz(id: string): Promise<{ status: number; body: { ready: boolean; reasons: string[] } }> {
  const response = await fetch(`http://127.0.0.1:${metricsPort(id)}/readyz`)
  return { status: response.status, body: (await response.json()) as { ready: boolean; reasons: string[] } }
}

const leader = await waitForLeader(kv.cluster, 20_000)
if (!leader) throw new Error('no leader')
const followers = kv.nodes.filter((node) => node.id !== leader.id)

t.test('the metrics say who leads, and the leader sees a frozen follower fall behind and catch up', async (t) => {
  const series = await scrape(leader.id)
  t.equal(value(series, leader.id, 'lograft_raft_role', { role: 'leader' }), 1, 'role leader')
  t.equal(value(series, leader.id, 'lograft_raft_has_leader'), 1, 'knows a leader')
  t.ok((value(series, leader.id, 'lograft_raft_term') ?? 0) >= 1, 'a term')
  t.ok(series.has(`nodejs_eventloop_lag_seconds{node="${leader.id}"}`), "the process's default metrics are there")
  const frozen = followers[0]?.id as string
  kv.cluster.suspend(frozen)
  for (let i = 0; i < 50; i++) t.equal(await respCommand(respPort(leader), 'SET', `k${i}`, 'v'), 'OK')
  const behind = value(await scrape(leader.id), leader.id, 'lograft_raft_follower_lag_entries', { follower: frozen }) ?? 0
  t.ok(behind >= 50, `the frozen follower's lag rose to ${behind}`)
  kv.cluster.resume(frozen)
  t.ok(
    await eventually(async () => value(await scrape(leader.id), leader.id, 'lograft_raft_follower_lag_entries', { follower: frozen }) === 0, 15_000),
    'and fell back to 0 once it ran again',
  )
  const after = await scrape(leader.id)
  t.ok((value(after, leader.id, 'lograft_machine_proposals_total', { outcome: 'applied' }) ?? 0) >= 50, 'the SETs are counted as applied proposals')
  t.ok((value(after, leader.id, 'lograft_raft_log_write_seconds_count') ?? 0) > 0, 'log writes are timed')
  t.ok((value(after, leader.id, 'lograft_raft_commit_seconds_count') ?? 0) >= 50, 'commits are timed')
  t.ok((value(after, leader.id, 'lograft_resp_commands_total', { command: 'set', outcome: 'ok' }) ?? 0) >= 50, 'its RESP endpoint counted the SETs')
  t.ok((value(after, leader.id, 'lograft_resp_command_seconds_count', { command: 'set' }) ?? 0) >= 50, 'and timed them')
})

interface StatusJson {
  clusterId: string
  leader: string | null
  members: Array<{ id: string; voter: boolean; lag: number | null; status: { role: string; term: number; commitIndex: number; ready: boolean } | null }>
}

async function status(): Promise<StatusJson> {
  const run = await lograft('status', '--via', followers[0]?.raftAddress as string, '--json')
  if (run.code !== 0) throw new Error(`lograft status failed: ${run.stderr}`)
  return JSON.parse(run.stdout.toString()) as StatusJson
}

t.test('lograft status shows every member, the leader and their indexes', async (t) => {
  const cluster = await status()
  t.equal(cluster.leader, leader.id, 'the leader')
  t.same(cluster.members.map((member) => member.id).sort(), ['1', '2', '3'])
  for (const member of cluster.members) {
    t.equal(member.status?.role, member.id === leader.id ? 'leader' : 'follower', `${member.id}'s role`)
    t.ok((member.status?.commitIndex ?? 0) >= 50, `${member.id} has committed the SETs`)
    t.equal(member.lag, 0, `${member.id} is not behind`)
  }
  const table = await lograft('status', '--via', leader.raftAddress)
  t.equal(table.code, 0)
  const text = table.stdout.toString()
  t.match(text, new RegExp(`^cluster ${cluster.clusterId}, leader ${leader.id}$`, 'm'), 'the cluster and its leader')
  t.match(text, /id\s+address\s+role\s+term\s+commit\s+applied\s+snapshot\s+lag\s+last contact\s+health/, 'a table with its header')
  t.equal(text.split('\n').filter((line) => /ready$/.test(line)).length, 3, 'three ready members')
})

t.test('lograft status --watch redraws every second until interrupted', async (t) => {
  const child = spawn(process.execPath, [LOGRAFT_MAIN, 'status', '--via', leader.raftAddress, '--watch', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const frameCount = (): number => output.split('\n').filter((line) => line !== '').length
  const startedMs = performance.now()
  t.ok(await eventually(() => frameCount() >= 1, 15_000), 'a first frame')
  const firstFrameMs = performance.now()
  t.ok(await eventually(() => frameCount() >= 3, 15_000), 'then more, one a second')
  const perFrameMs = (performance.now() - firstFrameMs) / 2
  t.ok(perFrameMs >= 900, `about a second apart (${perFrameMs.toFixed(0)} ms; ${(firstFrameMs - startedMs).toFixed(0)} ms to start)`)
  child.kill('SIGINT')
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)))
  const frames = output.split('\n').filter((line) => line !== '')
  t.ok(
    frames.every((frame) => (JSON.parse(frame) as StatusJson).members.length === 3),
    'each one the whole cluster',
  )
  t.equal(code, 0, 'and it exits cleanly on SIGINT')
})

t.test('the leader is killed: the survivors show a later term and a new leader', async (t) => {
  const before = new Map<string, { term: number; changes: number }>()
  for (const node of followers) {
    const series = await scrape(node.id)
    before.set(node.id, { term: value(series, node.id, 'lograft_raft_term') ?? 0, changes: value(series, node.id, 'lograft_raft_leader_changes_total') ?? 0 })
  }
  await kv.cluster.kill(leader.id)
  const newLeader = async (): Promise<string | null> => {
    for (const node of followers) if (value(await scrape(node.id), node.id, 'lograft_raft_role', { role: 'leader' }) === 1) return node.id
    return null
  }
  t.ok(await eventually(async () => (await newLeader()) !== null, 15_000), 'a survivor reports itself leader')
  for (const node of followers) {
    const series = await scrape(node.id)
    const was = before.get(node.id) as { term: number; changes: number }
    t.ok((value(series, node.id, 'lograft_raft_term') ?? 0) > was.term, `node ${node.id}'s term rose`)
    t.ok((value(series, node.id, 'lograft_raft_leader_changes_total') ?? 0) > was.changes, `node ${node.id} counted the leader change`)
  }
  const cluster = await status()
  t.equal(cluster.members.find((member) => member.id === leader.id)?.status, null, 'lograft status shows the killed node unreachable')
  t.ok(
    followers.some((node) => cluster.leader === node.id),
    `and a survivor leading (${cluster.leader ?? 'none'})`,
  )
})

t.test('/readyz turns false on a node cut off from the others, and true again', async (t) => {
  const [watched, other] = followers as [(typeof followers)[0], (typeof followers)[0]]
  t.ok(await eventually(async () => (await readyz(watched.id)).status === 200, 15_000), 'ready while a quorum serves')
  kv.cluster.suspend(other.id) // With the leader dead, the watched node is now alone.
  t.ok(await eventually(async () => (await readyz(watched.id)).status === 503, 15_000), 'not ready once cut off')
  const { body } = await readyz(watched.id)
  t.equal(body.ready, false)
  t.ok(
    body.reasons.some((reason) => reason.startsWith('no leader known')),
    `it says why: ${body.reasons.join('; ')}`,
  )
  kv.cluster.resume(other.id)
  t.ok(await eventually(async () => (await readyz(watched.id)).status === 200, 15_000), 'ready again once the other runs')
})

t.test('/healthz, unknown paths and other methods', async (t) => {
  const node = followers[0]?.id as string
  const health = await fetch(`http://127.0.0.1:${metricsPort(node)}/healthz`)
  t.equal(health.status, 200)
  t.same(await health.json(), { alive: true })
  t.equal((await fetch(`http://127.0.0.1:${metricsPort(node)}/nothing`)).status, 404)
  t.equal((await fetch(`http://127.0.0.1:${metricsPort(node)}/metrics`, { method: 'POST', body: 'x' })).status, 405)
})
