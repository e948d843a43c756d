// Shared pieces of the SIGKILL chaos tests on real processes: random timing, the kill-and-restart
// loop, the record of what RESP clients sent and saw, the final reads, and the checks on the
// recorded history.

import { join } from 'node:path'
import type { Test } from 'tap'
import { RespClient } from '../../src/resp/client.js'
import {
  type KvInput,
  type KvOutput,
  HistoryRecorder,
  checkOperations,
  formatReport,
  kvModel,
  writeHtmlReport,
} from '../../src/testing/linearizability/index.js'
import type { LocalCluster } from '../../src/cli/supervisor.js'
import { ErrorReply, type KvClusterOptions, type KvProcessCluster, pause, replyText, startKvCluster, waitForLeader } from './kv-processes.js'

const FINAL_READ_ATTEMPTS = 10
const CHECK_TIMEOUT_MS = 30_000
/** Past its end, a kill schedule goes on until it has made its minimum number of kills within this long. */
const KILL_OVERTIME_MS = 60_000

export interface Workload {
  readonly history: HistoryRecorder<KvInput, KvOutput>
  /** Per append-only key: every suffix sent, and those whose APPEND was acknowledged. */
  readonly sent: Map<string, Set<string>>
  readonly acknowledged: Map<string, Set<string>>
  completed: number
  unknown: number
  /** Error replies by prefix (-TRYAGAIN is the only one a crash should cause). */
  readonly errorReplies: Map<string, number>
}

export function newWorkload(): Workload {
  return { history: new HistoryRecorder(), sent: new Map(), acknowledged: new Map(), completed: 0, unknown: 0, errorReplies: new Map() }
}

/** Uniform in [0, 1): Math.random, or a seeded Rng's float() so that a seed replays the choices. */
export type Random = () => number

export function between([lowMs, highMs]: readonly [number, number], random: Random = Math.random): number {
  return lowMs + random() * (highMs - lowMs)
}

export function pick<T>(items: readonly T[], random: Random = Math.random): T {
  return items[Math.floor(random() * items.length)] as T
}

export interface KillSchedule {
  /** performance.now() after which no kill starts, once minKills are made. */
  readonly untilMs: number
  /** Kills made even past untilMs (a slow machine restarts nodes slowly), within a minute more. */
  readonly minKills: number
  /** Every this-many-th kill goes to the current leader; the others pick a node at random. */
  readonly leaderKillEvery: number
  readonly downMs: readonly [number, number]
  readonly upBetweenKillsMs: readonly [number, number]
  /** How long a leader kill waits to find the leader before it takes a random node instead. */
  readonly leaderTimeoutMs: number
}

export interface ChaosCluster {
  readonly kv: KvProcessCluster
  /** Nodes that exited other than by SIGKILL before stopNodes(). */
  readonly unexpectedExits: readonly string[]
  /** Stops every node with SIGTERM, which is not unexpected; their data stays for later checks. */
  stopNodes(): Promise<void>
}

/** A KV cluster that notes every exit but a SIGKILL; `t`'s teardown stops it, keeping the data if `t` failed. */
export async function startChaosCluster(t: Test, count: number, options: Omit<KvClusterOptions, 'onExit'> = {}): Promise<ChaosCluster> {
  const unexpectedExits: string[] = []
  let stopping = false
  const kv = await startKvCluster(count, {
    ...options,
    onExit: (id, code, signal, lastError) => {
      if (!stopping && signal !== 'SIGKILL') unexpectedExits.push(`node ${id} exited on its own (${signal ?? `code ${code}`}): ${lastError ?? ''}`)
    },
  })
  t.teardown(async () => {
    stopping = true
    if (!t.passing()) t.comment(`node data directories kept in ${kv.dataDirectory}`)
    await kv.stop(!t.passing())
  })
  return {
    kv,
    unexpectedExits,
    stopNodes: async () => {
      stopping = true
      await kv.cluster.stopAll()
    },
  }
}

/** The crash tests' kills: one node down at a time for 0.5–3 s, up 0.5–1.5 s before the next, every third kill the leader's. */
export const ONE_NODE_AT_A_TIME: Omit<KillSchedule, 'untilMs'> = {
  minKills: 5,
  leaderKillEvery: 3,
  downMs: [500, 3000],
  upBetweenKillsMs: [500, 1500],
  leaderTimeoutMs: 15_000,
}

/** SIGKILLs one node at a time and restarts it before the next kill, as `schedule` says. */
export async function killAndRestart(
  cluster: LocalCluster,
  schedule: KillSchedule,
  random: Random = Math.random,
): Promise<{ kills: number; leaderKills: number }> {
  let kills = 0
  let leaderKills = 0
  const overtimeEndMs = schedule.untilMs + KILL_OVERTIME_MS
  while (performance.now() < schedule.untilMs || (kills < schedule.minKills && performance.now() < overtimeEndMs)) {
    const leader = kills % schedule.leaderKillEvery === schedule.leaderKillEvery - 1 ? await waitForLeader(cluster, schedule.leaderTimeoutMs) : null
    const victim = leader ?? pick(cluster.layout.nodes, random)
    await cluster.kill(victim.id)
    kills++
    if (leader) leaderKills++
    await pause(between(schedule.downMs, random))
    await cluster.start(victim.id)
    await pause(between(schedule.upBetweenKillsMs, random))
  }
  return { kills, leaderKills }
}

function addTo(sets: Map<string, Set<string>>, key: string, item: string): void {
  const set = sets.get(key) ?? new Set<string>()
  set.add(item)
  sets.set(key, set)
}

/**
 * Operation `n` of `client` over `appendKeys` (appends and reads only) and `mixedKeys` (sets,
 * appends, reads); values are unique, so a final value says which appends took effect.
 */
export function randomKvInput(appendKeys: readonly string[], mixedKeys: readonly string[], client: number, n: number): KvInput {
  const value = `${client}.${n};`
  const choice = Math.random()
  if (choice < 0.5) {
    const key = pick(appendKeys)
    return choice < 0.25 ? { op: 'append', key, value } : { op: 'get', key, value: '' }
  }
  const key = pick(mixedKeys)
  return choice < 0.65 ? { op: 'put', key, value } : choice < 0.8 ? { op: 'append', key, value } : { op: 'get', key, value: '' }
}

export interface ClientScript {
  /** A connection to some running server; null (or a rejection) while there is none to be had. */
  connect(): Promise<RespClient | null>
  /** Operation `n` of `client`; values should be unique, so a final value says which appends took effect. */
  input(client: number, n: number): KvInput
  /** Keys no one SETs: their acknowledged appends must all be in the final value. */
  appendOnly(key: string): boolean
}

function words(input: KvInput): string[] {
  switch (input.op) {
    case 'get':
      return ['GET', input.key]
    case 'put':
      return ['SET', input.key, input.value]
    case 'append':
      return ['APPEND', input.key, input.value]
    case 'delete':
      return ['DEL', input.key]
    case 'incr':
      return ['INCRBY', input.key, input.value]
    case 'multi':
      throw new Error('the chaos scripts send no transactions')
  }
}

/** One client: the script's operations, recorded in `workload`, reconnecting whenever a server fails it. */
export async function runClient(client: number, script: ClientScript, workload: Workload, stopped: () => boolean): Promise<void> {
  let connection: RespClient | null = null
  for (let n = 0; !stopped(); n++) {
    // Refused while the server is still starting, or already dead: try again.
    connection ??= await script.connect().catch(() => null)
    if (!connection) {
      await pause(50)
      continue
    }
    const input = script.input(client, n)
    const tracked = input.op === 'append' && script.appendOnly(input.key)
    if (tracked) addTo(workload.sent, input.key, input.value)
    const operation = workload.history.begin(client, input, performance.now())
    try {
      const text = replyText(await connection.call(...words(input)))
      operation.end(outputOf(input, text), performance.now())
      workload.completed++
      if (tracked) addTo(workload.acknowledged, input.key, input.value)
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

/** Appended suffixes in order (each ends with ';'). */
function suffixesOf(value: string): string[] {
  return value
    .split(';')
    .slice(0, -1)
    .map((suffix) => `${suffix};`)
}

/** GET of `key` through the server on `port`, recorded as `client`; retried while the cluster settles. */
export async function finalRead(port: number, key: string, client: number, history: HistoryRecorder<KvInput, KvOutput>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    // Every server is running and ready by now: a refused connection is a failure, not a retry.
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

/** Checks the history for linearizability; a violation fails `t` with the report and keeps an HTML timeline. */
export async function checkLinearizable(t: Test, history: HistoryRecorder<KvInput, KvOutput>): Promise<void> {
  const result = checkOperations(kvModel({ appendReturnsOld: false, appendReturnsLength: true }), history.operations(), { timeoutMs: CHECK_TIMEOUT_MS })
  t.comment(`checked ${result.operationsTotal} operations on ${result.partitionsTotal} keys in ${result.elapsedMs.toFixed(0)} ms`)
  if (result.outcome === 'illegal') {
    // Kept after the test ends (tap reads this flag when the directory is made).
    t.saveFixture = true
    const report = join(t.testdir(), 'linearizability.html')
    await writeHtmlReport(result, report)
    t.fail(`not linearizable (timeline in ${report}):\n${formatReport(result)}`)
  } else {
    t.equal(result.outcome, 'ok', `the check finished within ${CHECK_TIMEOUT_MS} ms`)
  }
}

/** Every acknowledged suffix of `key` is in `value` exactly once, and every suffix in it was sent. */
export function checkAppends(t: Test, workload: Workload, key: string, value: string, where: string): void {
  const present = suffixesOf(value)
  const presentSet = new Set(present)
  const sent = workload.sent.get(key) ?? new Set<string>()
  const acknowledged = [...(workload.acknowledged.get(key) ?? [])]
  t.same(
    acknowledged.filter((suffix) => !presentSet.has(suffix)),
    [],
    `${where}${key}: no acknowledged append is missing (${acknowledged.length} acknowledged, ${present.length} present)`,
  )
  t.equal(presentSet.size, present.length, `${where}${key}: no suffix appears twice`)
  t.same(
    present.filter((suffix) => !sent.has(suffix)),
    [],
    `${where}${key}: every suffix present was sent by a client`,
  )
}

/** What the history records of a reply: a GET's value, an APPEND's new length (RESP's integer reply). */
function outputOf(input: KvInput, text: string): KvOutput | undefined {
  if (input.op === 'get') return { value: text }
  if (input.op === 'append') return { value: '', length: Number(text) }
  return undefined
}
