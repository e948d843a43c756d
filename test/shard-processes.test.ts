// A sharded KV of real processes under chaos: a 3-server controller and two 3-server groups. While
// RESP clients APPEND unique suffixes and GET through random group servers (which forward to each
// key's owner), shards move back and forth between the groups — single moves, and a group leaving
// and joining again — and in each group one server at a time is SIGKILLed and restarted. Afterwards
// the deployment must settle, every acknowledged APPEND must be in its key's final value exactly
// once, and the recorded history must be linearizable.

import t from 'tap'
import { RespClient } from '../src/resp/client.js'
import type { LocalShardDeployment } from '../src/cli/shard-deployment.js'
import { respPortOf } from '../src/cli/shard-layout.js'
import { type ClientScript, type Workload, between, checkAppends, checkLinearizable, finalRead, newWorkload, pick, runClient } from './helpers/chaos.js'
import { pause } from './helpers/kv-processes.js'
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

interface ChaosRun {
  readonly workload: Workload
  readonly finalValues: Map<string, string>
}

/** APPEND of a unique suffix or GET, through a random running group server. */
function script(deployment: LocalShardDeployment): ClientScript {
  return {
    connect: async () => {
      const running = deployment.runningServers()
      return running.length === 0 ? null : RespClient.connect(respPortOf(pick(running)))
    },
    input: (client, n) => {
      const key = pick(KEYS)
      return Math.random() < 0.6 ? { op: 'append', key, value: `${client}.${n};` } : { op: 'get', key, value: '' }
    },
    appendOnly: () => true,
  }
}

/**
 * In one group, kills one server at a time until `untilMs` and at least its share of MIN_KILLS (a
 * slow machine restarts servers slowly), within a minute more; each is restarted before the next kill.
 */
async function killOneAtATime(deployment: LocalShardDeployment, gid: number, untilMs: number): Promise<number> {
  let kills = 0
  const servers = deployment.group(gid).servers
  const share = Math.ceil(MIN_KILLS / GIDS.length)
  while (performance.now() < untilMs || (kills < share && performance.now() < untilMs + 60_000)) {
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

// Start-up, 25 s of chaos, settling and checks take about 40 s; tap's default per file is 30 s.
t.setTimeout(180_000)

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
  await deployment.join(GIDS)
  await deployment.settle(SETTLE_TIMEOUT_MS)
  const workload = newWorkload()
  let stopped = false
  const clients = Array.from({ length: CLIENTS }, (_, client) => runClient(client, script(deployment), workload, () => stopped))
  const untilMs = performance.now() + CHAOS_MS
  const [changes, ...kills] = await Promise.all([moveShards(deployment, untilMs), ...GIDS.map((gid) => killOneAtATime(deployment, gid, untilMs))])

  const latest = await deployment.settle(SETTLE_TIMEOUT_MS)
  await pause(AFTER_SETTLE_MS)
  stopped = true
  await Promise.all(clients)

  const finalValues = new Map<string, string>()
  const servers = deployment.runningServers()
  for (const key of KEYS) finalValues.set(key, await finalRead(respPortOf(pick(servers)), key, CLIENTS, workload.history))
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
  t.same(
    [...workload.errorReplies.keys()].filter((prefix) => prefix !== 'TRYAGAIN'),
    [],
    `the only error reply is -TRYAGAIN (${[...workload.errorReplies].map(([prefix, count]) => `${prefix}×${count}`).join(', ') || 'none'})`,
  )
})

t.test('every acknowledged APPEND is in its key’s final value exactly once, and nothing else is', async (t) => {
  if (!run) return t.fail('the chaos run did not finish')
  for (const key of KEYS) checkAppends(t, run.workload, key, run.finalValues.get(key) ?? '', '')
})

t.test('the recorded history, final reads included, is linearizable', async (t) => {
  if (!run) return t.fail('the chaos run did not finish')
  await checkLinearizable(t, run.workload.history)
})
