// Three `lograft node` processes under SIGKILL chaos: for 30 s one node at a time (every third time
// the leader) is killed and restarted while RESP clients run SET/APPEND/GET and record what they
// see. Afterwards the history must be linearizable, every acknowledged APPEND must be in the final
// value read through every node, and the three data directories must replay to the same state.
// The members talk over mutual TLS throughout.

import { join } from 'node:path'
import { tlsArgs } from '../src/cli/tls-flags.js'
import { createTestPki } from '../src/testing/pki.js'
import { makeTempDir } from './helpers/log.js'
import t from 'tap'
import { RespClient } from '../src/resp/client.js'
import type { KvInput, KvOutput, HistoryRecorder } from '../src/testing/linearizability/index.js'
import type { LocalCluster, LocalNode } from '../src/cli/supervisor.js'
import {
  type ClientScript,
  randomKvInput,
  type Workload,
  checkAppends,
  checkLinearizable,
  finalRead,
  killAndRestart,
  ONE_NODE_AT_A_TIME,
  newWorkload,
  pick,
  runClient,
  startChaosCluster,
} from './helpers/chaos.js'
import { lograft, pause, respPort, waitForLeader } from './helpers/kv-processes.js'

const NODES = 3
const CLIENTS = 5
const CHAOS_MS = 30_000
/** After the last restart the clients run this long more, so the history ends on a healthy cluster. */
const SETTLE_MS = 2000
/** Only APPEND and GET: every acknowledged suffix (each one unique) must be in the final value. */
const APPEND_KEYS = ['a0', 'a1', 'a2']
/** SET, APPEND and GET: checked by linearizability alone, since a SET may overwrite an append. */
const MIXED_KEYS = ['m0', 'm1', 'm2']
/** Small enough that the nodes snapshot and compact their logs during the run: restarts load a snapshot. */
const MAX_RAFT_STATE_BYTES = 256 * 1024
const MIN_COMPLETED = 500
const LEADER_TIMEOUT_MS = 15_000

interface ChaosRun {
  readonly workload: Workload
  /** Node id → key → the value GET returned through that node once the chaos was over. */
  readonly finalValues: Map<string, Map<string, string>>
  readonly kills: number
  readonly leaderKills: number
}

/** Random operations through a random running node. */
function script(cluster: LocalCluster): ClientScript {
  return {
    connect: async () => {
      const running = cluster.layout.nodes.filter((node) => cluster.isRunning(node.id))
      return running.length === 0 ? null : RespClient.connect(respPort(pick(running)))
    },
    input: (client, n) => randomKvInput(APPEND_KEYS, MIXED_KEYS, client, n),
    appendOnly: (key) => APPEND_KEYS.includes(key),
  }
}

/** Node id → key → value, each read recorded in the history as a client of its own per node. */
async function readEveryKeyThroughEveryNode(
  nodes: readonly LocalNode[],
  history: HistoryRecorder<KvInput, KvOutput>,
): Promise<Map<string, Map<string, string>>> {
  const finalValues = new Map<string, Map<string, string>>()
  for (const [i, node] of nodes.entries()) {
    const values = new Map<string, string>()
    for (const key of [...APPEND_KEYS, ...MIXED_KEYS]) values.set(key, await finalRead(respPort(node), key, CLIENTS + i, history))
    finalValues.set(node.id, values)
  }
  return finalValues
}

// The chaos takes 30 s (longer on a slow machine, until it has made its kills), past tap's default
// 30 s per file; the whole file takes about 50.
t.setTimeout(180_000)

const pki = await createTestPki(
  join(makeTempDir('crash-pki').path, 'pki'),
  Array.from({ length: NODES }, (_, i) => String(i + 1)),
)
const { kv, unexpectedExits, stopNodes } = await startChaosCluster(t, NODES, {
  extraArgs: ['--max-raft-state', String(MAX_RAFT_STATE_BYTES)],
  nodeArgs: (id) => {
    const issued = pki.certificates[id]
    return issued ? tlsArgs({ certFile: issued.certFile, keyFile: issued.keyFile, caFile: pki.caFile }) : []
  },
})

let run: ChaosRun | null = null

t.test(`${CLIENTS} RESP clients keep getting answers while one node at a time is SIGKILLed and restarted for ${CHAOS_MS / 1000} s`, async (t) => {
  const startedMs = performance.now()
  if (!(await waitForLeader(kv.cluster, LEADER_TIMEOUT_MS))) throw new Error(`no leader within ${LEADER_TIMEOUT_MS} ms of start`)
  const workload = newWorkload()
  let stopped = false
  const clients = Array.from({ length: CLIENTS }, (_, client) => runClient(client, script(kv.cluster), workload, () => stopped))
  const { kills, leaderKills } = await killAndRestart(kv.cluster, { ...ONE_NODE_AT_A_TIME, untilMs: performance.now() + CHAOS_MS })
  await pause(SETTLE_MS)
  stopped = true
  await Promise.all(clients)

  const finalValues = await readEveryKeyThroughEveryNode(kv.nodes, workload.history)
  await stopNodes()
  run = { workload, finalValues, kills, leaderKills }

  t.comment(
    `${workload.completed} operations completed, ${workload.unknown} with unknown outcome, ${kills} kills (${leaderKills} of the leader), ` +
      `${((performance.now() - startedMs) / 1000).toFixed(1)} s`,
  )
  t.same(unexpectedExits, [], 'no node exited unless killed')
  t.ok(kills >= ONE_NODE_AT_A_TIME.minKills, `at least ${ONE_NODE_AT_A_TIME.minKills} kills (${kills})`)
  t.ok(workload.completed >= MIN_COMPLETED, `at least ${MIN_COMPLETED} operations completed (${workload.completed})`)
  t.same(
    [...workload.errorReplies.keys()].filter((prefix) => prefix !== 'TRYAGAIN'),
    [],
    `the only error reply is -TRYAGAIN (${[...workload.errorReplies].map(([prefix, count]) => `${prefix}×${count}`).join(', ') || 'none'})`,
  )
})

t.test('the recorded history, final reads included, is linearizable', async (t) => {
  if (!run) return t.fail('the chaos run did not finish')
  await checkLinearizable(t, run.workload.history)
})

t.test('every acknowledged APPEND is in the final value read through every node, and no append took effect twice', async (t) => {
  if (!run) return t.fail('the chaos run did not finish')
  for (const [id, values] of run.finalValues) {
    for (const key of APPEND_KEYS) checkAppends(t, run.workload, key, values.get(key) ?? '', `node ${id}, `)
  }
})

t.test('the three data directories replay to the same state at their common commit index', async (t) => {
  if (!run) return t.fail('the chaos run did not finish')
  const logs = await Promise.all(
    kv.nodes.map(async (node) => {
      const inspect = await lograft('log', 'inspect', node.dataDirectory, '--json', '--to', '0')
      if (inspect.code !== 0) throw new Error(`log inspect of node ${node.id} failed: ${inspect.stderr}`)
      const header = JSON.parse(inspect.stdout.toString()) as { hardState: { commitIndex: number }; snapshot: { lastIncludedIndex: number } | null }
      // A snapshot only ever covers committed entries, so it is a lower bound on the commit index.
      const snapshotIndex = header.snapshot?.lastIncludedIndex ?? 0
      return { commitIndex: Math.max(header.hardState.commitIndex, snapshotIndex), snapshotIndex }
    }),
  )
  const commonIndex = Math.min(...logs.map((log) => log.commitIndex))
  t.comment(
    `commit indexes ${logs.map((log) => log.commitIndex).join(', ')}, snapshots through ${logs.map((log) => log.snapshotIndex).join(', ')}; replaying to ${commonIndex}`,
  )
  const states = await Promise.all(
    kv.nodes.map(async (node) => {
      const replay = await lograft('log', 'replay', node.dataDirectory, '--to', String(commonIndex), '--json')
      if (replay.code !== 0) throw new Error(`log replay of node ${node.id} failed: ${replay.stderr}`)
      return (JSON.parse(replay.stdout.toString()) as { state: Record<string, string> }).state
    }),
  )
  const [reference, ...others] = states as [Record<string, string>, ...Record<string, string>[]]
  t.ok(Object.keys(reference).length > 0, `the replayed state has keys (${Object.keys(reference).join(', ')})`)
  others.forEach((state, i) => t.same(state, reference, `node ${kv.nodes[i + 1]?.id} replays to node ${kv.nodes[0]?.id}'s state`))
  // The append-only keys only grow, so what was committed by then is the start of what was read at the end.
  const finalValues = run.finalValues.get(kv.nodes[0]?.id ?? '') ?? new Map<string, string>()
  for (const key of APPEND_KEYS)
    t.ok((finalValues.get(key) ?? '').startsWith(reference[key] ?? ''), `${key} at index ${commonIndex} is a prefix of its final value`)
})
