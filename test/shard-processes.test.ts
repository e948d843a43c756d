// A sharded KV of real processes under chaos: a 3-server controller and two 3-server groups. While
// RESP clients APPEND unique suffixes and GET through random group servers (which forward to each
// key's owner), shards move back and forth between the groups — single moves, and a group leaving
// and joining again — and in each group one server at a time is SIGKILLed and restarted. Afterwards
// the deployment must settle, every acknowledged APPEND must be in its key's final value exactly
// once, and the recorded history must be linearizable.

import { join } from 'node:path'
import t from 'tap'
import { RespClient } from '../src/resp/client.js'
import type { LocalShardDeployment } from '../src/cli/shard-deployment.js'
import { respPortOf } from '../src/cli/shard-layout.js'
import { type KvInput, type KvOutput, HistoryRecorder, checkOperations, formatReport, kvModel, writeHtmlReport } from '../src/testing/linearizability/index.js'
import { ErrorReply, pause, replyText } from './helpers/kv-processes.js'
import { startShardDeployment } from './helpers/shard-processes.js'

const GIDS = [100, 101] as const
const CLIENTS = 4
const CHAOS_MS = 25_000
/** Keys in eight different shards (by the deployment's hash of the key). */
const KEYS = ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']
const DOWN_MS: readonly [number, number] = [500, 2500]
const UP_BETWEEN_KILLS_MS: readonly [number, number] = [500, 1500]
const BETWEEN_CHANGES_MS: readonly [number, number] = [700, 1500]
/** Of the configuration changes, this share is a group leaving (and later joining again); the rest are single moves. */
const LEAVE_SHARE = 0.25
/** Small, so groups snapshot during the run: restarts load snapshots, and moves send snapshot plus log. */
const MAX_RAFT_STATE_BYTES = 64 * 1024
const SETTLE_TIMEOUT_MS = 20_000
const AFTER_SETTLE_MS = 1000
const MIN_KILLS = 8
const MIN_CHANGES = 8
const MIN_COMPLETED = 300
const FINAL_READ_ATTEMPTS = 10
const CHECK_TIMEOUT_MS = 30_000

interface Workload {
  readonly history: HistoryRecorder<KvInput, KvOutput>
  readonly sent: Map<string, Set<string>>
  readonly acknowledged: Map<string, Set<string>>
  completed: number
  unknown: number
  readonly errorReplies: Map<string, number>
}

interface ChaosRun {
  readonly workload: Workload
  readonly finalValues: Map<string, string>
}

function between([lowMs, highMs]: readonly [number, number]): number {
  return lowMs + Math.random() * (highMs - lowMs)
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T
}

function addTo(sets: Map<string, Set<string>>, key: string, item: string): void {
  const set = sets.get(key) ?? new Set<string>()
  set.add(item)
  sets.set(key, set)
}

async function connectToRunningServer(deployment: LocalShardDeployment): Promise<RespClient | null> {
  const running = deployment.runningServers()
  if (running.length === 0) return null
  // Refused while the server is still starting, or already dead: the caller tries again.
  return RespClient.connect(respPortOf(pick(running))).catch(() => null)
}

/** One client: APPEND of a unique suffix or GET, through a random running group server, switching server whenever one fails. */
async function runClient(client: number, deployment: LocalShardDeployment, workload: Workload, stopped: () => boolean): Promise<void> {
  let connection: RespClient | null = null
  for (let n = 0; !stopped(); n++) {
    connection ??= await connectToRunningServer(deployment)
    if (!connection) {
      await pause(50)
      continue
    }
    const key = pick(KEYS)
    const input: KvInput = Math.random() < 0.6 ? { op: 'append', key, value: `${client}.${n};` } : { op: 'get', key, value: '' }
    if (input.op === 'append') addTo(workload.sent, key, input.value)
    const operation = workload.history.begin(client, input, performance.now())
    try {
      const text = replyText(await connection.call(...(input.op === 'append' ? ['APPEND', key, input.value] : ['GET', key])))
      operation.end(input.op === 'get' ? { value: text } : undefined, performance.now())
      workload.completed++
      if (input.op === 'append') addTo(workload.acknowledged, key, input.value)
    } catch (error) {
      // The server died under the request, or answered -TRYAGAIN: it may or may not have taken effect.
      operation.giveUp()
      workload.unknown++
      if (error instanceof ErrorReply) workload.errorReplies.set(error.reply.prefix, (workload.errorReplies.get(error.reply.prefix) ?? 0) + 1)
      await connection.close()
      connection = null
    }
  }
  await connection?.close()
}

/** In one group, kills one server at a time until `untilMs`, restarting each before the next kill. */
async function killOneAtATime(deployment: LocalShardDeployment, gid: number, untilMs: number): Promise<number> {
  let kills = 0
  const servers = deployment.group(gid).servers
  while (performance.now() < untilMs) {
    const victim = pick(servers)
    await deployment.supervisor.kill(victim.id)
    kills++
    await pause(between(DOWN_MS))
    await deployment.restart(victim)
    await pause(between(UP_BETWEEN_KILLS_MS))
  }
  return kills
}

/** Moves shards between the groups until `untilMs`: a shard to the other group, or a group leaving and later joining again. */
async function moveShards(deployment: LocalShardDeployment, untilMs: number): Promise<number> {
  let changes = 0
  let absent: number | null = null
  while (performance.now() < untilMs) {
    await pause(between(BETWEEN_CHANGES_MS))
    if (absent !== null) {
      await deployment.join([absent])
      absent = null
    } else if (Math.random() < LEAVE_SHARE) {
      absent = pick(GIDS)
      await deployment.admin.leave([absent])
    } else {
      const config = await deployment.admin.query(-1)
      const shard = Math.floor(Math.random() * config.shards.length)
      const result = await deployment.admin.move(shard, config.shards[shard] === GIDS[0] ? GIDS[1] : GIDS[0])
      if (result.error) throw new Error(`move of shard ${shard} refused: ${result.error}`)
    }
    changes++
  }
  if (absent !== null) await deployment.join([absent])
  return changes
}

/** GET of `key` through the server on `port`, recorded as `client`; retried a few times. */
async function finalRead(port: number, key: string, client: number, history: HistoryRecorder<KvInput, KvOutput>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const connection = await RespClient.connect(port)
    const operation = history.begin(client, { op: 'get', key, value: '' }, performance.now())
    try {
      const value = replyText(await connection.call('GET', key))
      operation.end({ value }, performance.now())
      return value
    } catch (error) {
      operation.giveUp()
      if (attempt === FINAL_READ_ATTEMPTS) throw error
    } finally {
      await connection.close()
    }
    await pause(200)
  }
}

function suffixesOf(value: string): string[] {
  return value.split(';').slice(0, -1).map((suffix) => `${suffix};`)
}

// Start-up, 25 s of chaos, settling and checks take about 40 s; tap's default per file is 30 s.
t.setTimeout(120_000)

const unexpectedExits: string[] = []
let stopping = false
const shardKv = await startShardDeployment({
  controllerServers: 3,
  gids: GIDS,
  serversPerGroup: 3,
  groupArgs: ['--max-raft-state', String(MAX_RAFT_STATE_BYTES)],
  onExit: (id, code, signal) => {
    if (!stopping && signal !== 'SIGKILL') unexpectedExits.push(`${id} exited on its own (${signal ?? `code ${code}`})`)
  },
})
const { deployment } = shardKv
t.teardown(async () => {
  stopping = true
  if (!t.passing()) t.comment(`data directories kept in ${shardKv.dataDirectory}`)
  await shardKv.stop(!t.passing())
})

let run: ChaosRun | null = null

t.test(`RESP clients keep getting answers while shards move between two groups and group servers are SIGKILLed for ${CHAOS_MS / 1000} s`, async (t) => {
  const startedMs = performance.now()
  const initial = await deployment.join(GIDS)
  await deployment.waitForConfig(await deployment.admin.query(initial.num - 1), initial, SETTLE_TIMEOUT_MS)
  const workload: Workload = { history: new HistoryRecorder(), sent: new Map(), acknowledged: new Map(), completed: 0, unknown: 0, errorReplies: new Map() }
  let stopped = false
  const clients = Array.from({ length: CLIENTS }, (_, client) => runClient(client, deployment, workload, () => stopped))
  const untilMs = performance.now() + CHAOS_MS
  const [changes, ...kills] = await Promise.all([moveShards(deployment, untilMs), ...GIDS.map((gid) => killOneAtATime(deployment, gid, untilMs))])

  const latest = await deployment.admin.query(-1)
  await deployment.waitForConfig(await deployment.admin.query(latest.num - 1), latest, SETTLE_TIMEOUT_MS)
  await pause(AFTER_SETTLE_MS)
  stopped = true
  await Promise.all(clients)

  const finalValues = new Map<string, string>()
  const servers = deployment.runningServers()
  for (const [i, key] of KEYS.entries()) finalValues.set(key, await finalRead(respPortOf(servers[i % servers.length] as (typeof servers)[number]), key, CLIENTS, workload.history))
  run = { workload, finalValues }

  const totalKills = kills.reduce((total, count) => total + count, 0)
  t.comment(
    `${workload.completed} operations completed, ${workload.unknown} with unknown outcome, ${changes} configuration changes (now config ${latest.num}), ` +
      `${totalKills} kills (${kills.join(' + ')}), ${((performance.now() - startedMs) / 1000).toFixed(1)} s`,
  )
  t.same(unexpectedExits, [], 'no process exited unless killed')
  t.ok(totalKills >= MIN_KILLS, `at least ${MIN_KILLS} kills (${totalKills})`)
  t.ok(changes >= MIN_CHANGES, `at least ${MIN_CHANGES} configuration changes (${changes})`)
  t.ok(workload.completed >= MIN_COMPLETED, `at least ${MIN_COMPLETED} operations completed (${workload.completed})`)
  t.same([...workload.errorReplies.keys()].filter((prefix) => prefix !== 'TRYAGAIN'), [], `the only error reply is -TRYAGAIN (${[...workload.errorReplies].map(([prefix, count]) => `${prefix}×${count}`).join(', ') || 'none'})`)
})

t.test('every acknowledged APPEND is in its key’s final value exactly once, and nothing else is', async (t) => {
  if (!run) return t.fail('the chaos run did not finish')
  for (const key of KEYS) {
    const present = suffixesOf(run.finalValues.get(key) ?? '')
    const presentSet = new Set(present)
    const sent = run.workload.sent.get(key) ?? new Set<string>()
    const acknowledged = [...(run.workload.acknowledged.get(key) ?? [])]
    t.same(acknowledged.filter((suffix) => !presentSet.has(suffix)), [], `${key}: no acknowledged append is missing (${acknowledged.length} acknowledged, ${present.length} present)`)
    t.equal(presentSet.size, present.length, `${key}: no suffix appears twice`)
    t.same(present.filter((suffix) => !sent.has(suffix)), [], `${key}: every suffix present was sent by a client`)
  }
})

t.test('the recorded history, final reads included, is linearizable', async (t) => {
  if (!run) return t.fail('the chaos run did not finish')
  const result = checkOperations(kvModel({ appendReturnsOld: false }), run.workload.history.operations(), { timeoutMs: CHECK_TIMEOUT_MS })
  t.comment(`checked ${result.operationsTotal} operations on ${result.partitionsTotal} keys in ${result.elapsedMs.toFixed(0)} ms`)
  if (result.outcome === 'illegal') {
    t.saveFixture = true
    const report = join(t.testdir(), 'linearizability.html')
    await writeHtmlReport(result, report)
    t.fail(`not linearizable (timeline in ${report}):\n${formatReport(result)}`)
  } else {
    t.equal(result.outcome, 'ok', `the check finished within ${CHECK_TIMEOUT_MS} ms`)
  }
})
