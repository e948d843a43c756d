// Raft on real processes: three node programs on loopback TCP, each with its own classic-level
// data directory. The leader is SIGKILLed mid-run and later restarted on its data; every entry a
// leader reported committed must end up on every node at the same index, byte for byte. A node
// pointed at another node's data directory must refuse to start.

import type { Test } from 'tap'
import t from 'tap'
import { systemClock } from '../src/base/clock.js'
import type { AppliedCommand } from './helpers/raft-control.js'
import { ProcessCluster, describeExit } from './helpers/raft-processes.js'

/** The behaviour under test: survivors elect a new leader this soon after the leader dies. */
const ELECTION_BOUND_MS = 5000
/** Generous, for a loaded machine: these bound setup and polling, not Raft's behaviour. */
const FIRST_LEADER_TIMEOUT_MS = 15_000
const COMMIT_WAIT_MS = 5000
const CATCH_UP_TIMEOUT_MS = 15_000
const MAX_COMMIT_ATTEMPTS = 5
/** A node that refuses its data directory exits within this (it takes well under a second). */
const REFUSAL_TIMEOUT_MS = 15_000
const COMMANDS_BEFORE_CRASH = 200
const COMMANDS_AFTER_CRASH = 100
/** The first commands go one at a time, the rest in concurrent waves of this many. */
const SEQUENTIAL_COMMANDS = 50
const WAVE_SIZE = 25

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function command(n: number): Uint8Array {
  return encoder.encode(`command ${n}`)
}

/** Index, term and bytes (latin1 maps each byte to one character, so equal text means equal bytes). */
function describeCommand(command: AppliedCommand): string {
  return `${command.index}@${command.term}:${Buffer.from(command.data).toString('latin1')}`
}

/** Commits `data` through whichever of `among` leads, retrying on another leader if it is lost. */
async function commitThroughLeader(cluster: ProcessCluster, among: readonly string[], data: Uint8Array): Promise<AppliedCommand> {
  for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
    const leader = await cluster.waitForLeader(among, FIRST_LEADER_TIMEOUT_MS)
    if (!leader) break
    // A call that fails (the node died or timed out) counts as lost: try again on the current leader.
    const outcome = await cluster.commit(leader.id, data, COMMIT_WAIT_MS).catch(() => ({ kind: 'lost' as const }))
    if (outcome.kind === 'committed') return outcome.command
  }
  throw new Error(`"${decoder.decode(data)}" was not committed in ${MAX_COMMIT_ATTEMPTS} attempts`)
}

/** Commits commands `first` to `first + count - 1`: some one at a time, the rest in concurrent waves. */
async function commitCommands(cluster: ProcessCluster, among: readonly string[], first: number, count: number): Promise<AppliedCommand[]> {
  const committed: AppliedCommand[] = []
  let n = first
  while (n < first + count) {
    const waveSize = n - first < SEQUENTIAL_COMMANDS ? 1 : Math.min(WAVE_SIZE, first + count - n)
    const wave = Array.from({ length: waveSize }, (_, offset) => command(n + offset))
    committed.push(...(await Promise.all(wave.map((data) => commitThroughLeader(cluster, among, data)))))
    n += waveSize
  }
  return committed
}

/** Runs `body`; if it fails, shows what the nodes wrote to stderr. */
async function showingNodeLogsOnFailure(t: Test, cluster: ProcessCluster, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (error) {
    t.fail(error instanceof Error ? (error.stack ?? error.message) : String(error))
  }
  if (!t.passing()) t.comment(cluster.stderrs())
}

t.test('every entry reported committed survives a leader SIGKILL and restart, on every node at the same index', async (t) => {
  const cluster = await ProcessCluster.start()
  t.teardown(() => cluster.stop())
  await showingNodeLogsOnFailure(t, cluster, async () => {
    const first = await cluster.waitForLeader(cluster.ids, FIRST_LEADER_TIMEOUT_MS)
    if (!first) throw new Error(`no leader within ${FIRST_LEADER_TIMEOUT_MS} ms of start`)

    const committed = await commitCommands(cluster, cluster.ids, 0, COMMANDS_BEFORE_CRASH)
    t.equal(committed.length, COMMANDS_BEFORE_CRASH, `the leader reported all ${COMMANDS_BEFORE_CRASH} commands committed`)

    const leader = await cluster.waitForLeader(cluster.ids, FIRST_LEADER_TIMEOUT_MS)
    if (!leader) throw new Error('no leader to kill')
    const killedAtMs = systemClock.now()
    const exit = await cluster.kill(leader.id)
    t.equal(exit.signal, 'SIGKILL', `leader ${leader.id} was SIGKILLed`)

    const survivors = cluster.ids.filter((id) => id !== leader.id)
    const next = await cluster.waitForLeader(survivors, ELECTION_BOUND_MS, leader.term)
    const electionMs = Math.round(systemClock.now() - killedAtMs)
    t.ok(next, `one of ${survivors.join(', ')} became leader within ${ELECTION_BOUND_MS} ms of the kill (took ${electionMs} ms)`)

    committed.push(...(await commitCommands(cluster, survivors, COMMANDS_BEFORE_CRASH, COMMANDS_AFTER_CRASH)))
    t.equal(committed.length, COMMANDS_BEFORE_CRASH + COMMANDS_AFTER_CRASH, 'the new leader committed the commands proposed after the crash')

    await cluster.startNode(leader.id)
    const lastCommittedIndex = Math.max(...committed.map((entry) => entry.index))
    const caughtUp = await cluster.waitForApplied(cluster.ids, lastCommittedIndex, CATCH_UP_TIMEOUT_MS)
    t.ok(caughtUp, `every node, the restarted ${leader.id} included, applied through index ${lastCommittedIndex}`)

    const applied = new Map(await Promise.all(cluster.ids.map(async (id) => [id, await cluster.allApplied(id)] as const)))
    for (const [id, commands] of applied) {
      const byIndex = new Map(commands.map((entry) => [entry.index, describeCommand(entry)]))
      const missing = committed.filter((entry) => byIndex.get(entry.index) !== describeCommand(entry)).map(describeCommand)
      t.same(missing, [], `${id} applied every committed command at its index with the same term and bytes`)
    }
    const [referenceId, ...otherIds] = cluster.ids as [string, ...string[]]
    const reference = new Map((applied.get(referenceId) ?? []).map((entry) => [entry.index, describeCommand(entry)]))
    for (const id of otherIds) {
      const commands = applied.get(id) ?? []
      const conflicts = commands.filter((entry) => reference.has(entry.index) && reference.get(entry.index) !== describeCommand(entry)).map(describeCommand)
      t.same(conflicts, [], `${id} applied nothing at any index that ${referenceId} applied differently`)
    }
  })
})

t.test("a node started on another node's data directory refuses with a clear message", async (t) => {
  const cluster = await ProcessCluster.start()
  t.teardown(() => cluster.stop())
  await showingNodeLogsOnFailure(t, cluster, async () => {
    await cluster.kill('n1')
    const n1Data = cluster.dataDirectory('n1')

    const impostor = cluster.spawn('n2', cluster.argsFor('n2', n1Data))
    const impostorExit = await impostor.exitedWithin(REFUSAL_TIMEOUT_MS)
    t.ok(impostorExit && impostorExit.code !== 0, `n2 on n1's data directory exits non-zero (${describeExit(impostorExit)})`)
    t.match(impostor.stderr, /cannot start node n2: .*belongs to node n1 of cluster lograft-test, not node n2/, 'and says whose data it is')

    const stranger = cluster.spawn('n1', [...cluster.argsFor('n1', n1Data).slice(0, -1), 'another-cluster'])
    const strangerExit = await stranger.exitedWithin(REFUSAL_TIMEOUT_MS)
    t.ok(strangerExit && strangerExit.code !== 0, `n1 of another cluster on that directory exits non-zero (${describeExit(strangerExit)})`)
    t.match(stranger.stderr, /belongs to node n1 of cluster lograft-test, not node n1 of cluster another-cluster/, 'and names both clusters')
  })
})
