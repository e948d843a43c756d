// Membership changes on real `lograft node` processes while RESP clients write (issue 12): a node is
// SIGKILLed and its data directory deleted; a new node with a new id and port joins with --join and
// is promoted; the dead one is removed; then the cluster grows to five and shrinks back to three
// (the removed nodes stop on their own). Service never pauses for much more than an election, no
// acknowledged write is lost, and the recorded history is linearizable.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { ProcessSupervisor } from '../src/cli/supervisor.js'
import { RespClient } from '../src/resp/client.js'
import { type ClientScript, randomKvInput, checkAppends, checkLinearizable, finalRead, newWorkload, pick, runClient } from './helpers/chaos.js'
import { freePortBlock, lograft, pause, respPort, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

t.setTimeout(180_000)

const CLIENTS = 4
const APPEND_KEYS = ['a0', 'a1']
const MIXED_KEYS = ['m0', 'm1']
/** Longest time without a single completed operation that counts as "one election". */
const MAX_PAUSE_MS = 5000
const MEMBERSHIP_TIMEOUT_MS = 30_000

interface Member {
  readonly id: string
  readonly raftAddress: string
  readonly respPort: number
}

const exits: string[] = []
const kv = await startKvCluster(3, { onExit: (id, code, signal, lastError) => exits.push(`${id} ${signal ?? code}: ${lastError ?? ''}`) })
const joiners = new ProcessSupervisor((id, code, signal, lastError) => exits.push(`${id} ${signal ?? code}: ${lastError ?? ''}`))
t.teardown(async () => {
  await joiners.stopAll()
  await kv.stop(!t.passing())
})
const base = await freePortBlock(6)
const members = new Map<string, Member>(kv.nodes.map((node) => [node.id, { id: node.id, raftAddress: node.raftAddress, respPort: respPort(node) }]))
const running = new Set(members.keys())

async function startJoiner(id: string, via: string): Promise<void> {
  const member: Member = { id, raftAddress: `127.0.0.1:${base + Number(id) - 3}`, respPort: base + Number(id) }
  const dataDirectory = join(kv.dataDirectory, `node-${id}`)
  await joiners.start({
    id,
    args: ['node', '--id', id, '--listen', member.raftAddress, '--join', via, '--data', dataDirectory, '--resp', `127.0.0.1:${member.respPort}`],
    readyText: `lograft node ${id} ready`,
    dataDirectory,
  })
  members.set(id, member)
  running.add(id)
}

async function member(...args: string[]): Promise<{ code: number | null; out: string }> {
  const via = members.get(pick([...running]))?.raftAddress ?? ''
  const run = await lograft('member', ...args, '--via', via, '--json')
  return { code: run.code, out: run.code === 0 ? run.stdout.toString() : run.stderr }
}

/** Polls `lograft member list` until `check` holds for the voters' ids. */
async function waitForVoters(check: (voters: string[]) => boolean): Promise<string[]> {
  const deadline = performance.now() + MEMBERSHIP_TIMEOUT_MS
  let voters: string[] = []
  while (performance.now() < deadline) {
    const list = await member('list')
    if (list.code === 0) {
      const parsed = JSON.parse(list.out) as { committed: boolean; members: Array<{ id: string; role: string }> }
      voters = parsed.members
        .filter((entry) => entry.role === 'voter')
        .map((entry) => entry.id)
        .sort()
      if (parsed.committed && check(voters)) return voters
    }
    await pause(200)
  }
  throw new Error(`the voters never came to satisfy the check (last: ${voters.join(', ')})`)
}

async function changeMembership(...args: string[]): Promise<void> {
  const deadline = performance.now() + MEMBERSHIP_TIMEOUT_MS
  for (;;) {
    const run = await member(...args)
    if (run.code === 0) return
    if (performance.now() > deadline) throw new Error(`lograft member ${args.join(' ')} failed: ${run.out}`)
    await pause(300) // Another change in flight, or an election: try again.
  }
}

const workload = newWorkload()
const completions: number[] = []
const script: ClientScript = {
  connect: async () => {
    const port = members.get(pick([...running]))?.respPort
    return port === undefined ? null : RespClient.connect(port)
  },
  input: (client, n) => {
    completions.push(performance.now())
    return randomKvInput(APPEND_KEYS, MIXED_KEYS, client, n)
  },
  appendOnly: (key) => APPEND_KEYS.includes(key),
}

t.test('replace a wiped node by a new one with --join, then grow to five and shrink back to three, while clients write', async (t) => {
  const leader = await waitForLeader(kv.cluster, 15_000)
  if (!leader) throw new Error('no leader')
  let stopped = false
  const clients = Array.from({ length: CLIENTS }, (_, client) => runClient(client, script, workload, () => stopped))
  await pause(2000)

  const victim = kv.nodes.find((node) => node.id !== leader.id)
  if (!victim) throw new Error('no follower')
  running.delete(victim.id)
  await kv.cluster.kill(victim.id)
  rmSync(victim.dataDirectory, { recursive: true, force: true })
  await startJoiner('4', leader.raftAddress)
  t.same(await waitForVoters((voters) => voters.includes('4')), ['1', '2', '3', '4'], 'the new node joined and was promoted')
  await changeMembership('remove', victim.id)
  const afterReplace = await waitForVoters((voters) => !voters.includes(victim.id))
  t.equal(afterReplace.length, 3, `the dead node is removed: voters ${afterReplace.join(', ')}`)

  await startJoiner('5', leader.raftAddress)
  await startJoiner('6', members.get('4')?.raftAddress ?? leader.raftAddress)
  t.equal((await waitForVoters((voters) => voters.length === 5)).length, 5, 'grown to five voters')
  for (const id of ['5', '6']) {
    running.delete(id)
    await changeMembership('remove', id)
  }
  t.equal((await waitForVoters((voters) => voters.length === 3)).length, 3, 'shrunk back to three')
  await pause(5000)
  t.same(
    exits
      .filter((exit) => !exit.includes('SIGKILL'))
      .map((exit) => exit.split(' ')[0])
      .sort(),
    ['5', '6'],
    'the removed nodes stopped on their own',
  )

  stopped = true
  await Promise.all(clients)
  let longestPauseMs = 0
  completions.sort((a, b) => a - b)
  for (let i = 1; i < completions.length; i++) longestPauseMs = Math.max(longestPauseMs, (completions[i] as number) - (completions[i - 1] as number))
  t.comment(`${workload.completed} operations, ${workload.unknown} with unknown outcome; longest pause between operations ${Math.round(longestPauseMs)} ms`)
  t.ok(longestPauseMs < MAX_PAUSE_MS, `service never paused for more than an election or so (${Math.round(longestPauseMs)} ms)`)
  t.same(
    [...workload.errorReplies.keys()].filter((prefix) => prefix !== 'TRYAGAIN'),
    [],
    'no error replies but -TRYAGAIN',
  )

  for (const id of running) {
    const port = members.get(id)?.respPort as number
    for (const key of APPEND_KEYS) checkAppends(t, workload, key, await finalRead(port, key, CLIENTS + Number(id), workload.history), `node ${id}, `)
  }
  await checkLinearizable(t, workload.history)
})

t.test('bad membership input is refused in one line and changes nothing', async (t) => {
  const before = await waitForVoters(() => true)
  const cases: Array<[string[], RegExp]> = [
    [['remove', '42'], /cannot remove 42: 42 is not a member/],
    [['add', before[0] as string, '127.0.0.1:1'], /is already a voter/],
    [['add', '9', members.get(before[0] as string)?.raftAddress ?? ''], /address .* is already/],
    [['promote', '42'], /42 is not a member/],
  ]
  for (const [args, message] of cases) {
    const run = await member(...args)
    t.equal(run.code, 1, `member ${args.join(' ')}: exit 1`)
    t.match(run.out, message)
    t.equal(run.out.trim().split('\n').length, 1, 'in one line')
  }
  const via = members.get(before[0] as string)?.raftAddress ?? ''
  const otherCluster = await lograft(
    'node',
    '--id',
    '9',
    '--listen',
    `127.0.0.1:${base + 5}`,
    '--join',
    via,
    '--cluster-id',
    'not-this-one',
    '--data',
    join(kv.dataDirectory, 'node-9'),
  )
  t.equal(otherCluster.code, 1)
  t.match(otherCluster.stderr, /^lograft: .* is a node of cluster [0-9a-f]+, not not-this-one/)
  t.same(await waitForVoters(() => true), before, 'the voters are unchanged')
})
