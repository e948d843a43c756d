// A distributed lock on three `lograft node` processes under SIGKILL chaos: for 30 s one node at a
// time (every third time the leader) is killed and restarted while ioredis workers take the lock
// with SET lock TOKEN NX PX ttl, INCR a counter while they hold it, and release it by
// compare-and-delete (WATCH lock, GET lock, MULTI DEL EXEC) or let it expire. Afterwards no two
// holders' validity intervals overlap, the counter holds every acknowledged INCR once and none
// invented, and the cluster is healthy. The kills and the workers' pauses come from the seed's Rng
// (SEED=n replays those choices, not the machine's timing). The nodes serve reads on the leader's
// lease (--lease-reads), so a holder's GETs and WATCHes also check that a lease never outlives a
// leader through the kills (the other process chaos test reads by ReadIndex rounds).
//
// Why the interval check is sound: every clock is on this one machine. A holder's interval runs
// from the arrival of its SET's OK to the earlier of (the SET's send + ttl − a margin) and the send
// of its releasing EXEC. A correct lock takes the SET after it was sent and stamps its expiry then,
// so the lock lasts until at least send + ttl unless that EXEC's DEL, sent later than the EXEC, ends
// it sooner; only after that can another SET NX succeed, and its OK arrives later still. A correct
// lock never yields overlapping intervals, so an overlap is a lock granted while another was held.
// A SET whose outcome is unknown (-TRYAGAIN, a reset, a timeout) may have taken the lock: its worker
// never acts on it and it is not checked, though it keeps others out as a real lock would.

import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { Rng } from '../src/base/rng.js'
import { seedsFor } from '../src/sim/seeds.js'
import { ONE_NODE_AT_A_TIME, type Random, between, killAndRestart, startChaosCluster } from './helpers/chaos.js'
import { type KvProcessCluster, pause, respPort, waitForLeader } from './helpers/kv-processes.js'
import { seededTest } from './helpers/sim.js'

const HOST = '127.0.0.1'
const NODES = 3
const WORKERS = 4
/** The last this-many workers never release: their locks end by expiry. */
const EXPIRING_WORKERS = 1
const LOCK_KEY = 'lock'
const COUNTER_KEY = 'counter'
const TTL_MS = 1500
/** Taken off the end of every validity interval, for the millisecond clocks that stamp expiries. */
const CLOCK_MARGIN_MS = 20
const INCRS_PER_HOLD = 3
const CHAOS_MS = 30_000
/** After the last restart the workers run this long more, so the run ends on a healthy cluster. */
const SETTLE_MS = 2000
/** Small enough that the nodes snapshot during the run: restarts load the lock and its expiry from a snapshot. */
const MAX_RAFT_STATE_BYTES = 64 * 1024
const LEADER_TIMEOUT_MS = 15_000
/** Longer than a node's own request timeout (5 s), so a stuck request usually ends with its -TRYAGAIN. */
const COMMAND_TIMEOUT_MS = 6000
const CONNECT_TIMEOUT_MS = 1000
/** A worker refused the lock tries again after this long. */
const REFUSED_PAUSE_MS: readonly [number, number] = [10, 50]
const RECONNECT_PAUSE_MS = 50
/** Locks whose OK arrived between the first kill and the last restart, with some validity left. */
const MIN_GRANTS_DURING_CHAOS = 20
const MIN_RELEASED = 10
const MIN_LEFT_TO_EXPIRE = 3
/** How long the members have, after the workers stop, to agree on the counter (a node's in-flight requests end within 5 s). */
const AGREE_TIMEOUT_MS = 15_000
/** Overlaps or lost locks shown in a failure; the count says how many there were in all. */
const MAX_REPORTED = 10
/** One seed: start, chaos (with overtime for slow restarts), the final checks. */
const PER_RUN_TIMEOUT_MS = 180_000

const NAME = `${WORKERS} ioredis workers share a lock and a counter while one node at a time is SIGKILLed and restarted`

interface Grant {
  readonly worker: number
  readonly token: string
  readonly sentMs: number
  readonly ackMs: number
  /** The SET's send + ttl − margin, or, if earlier, the send of the EXEC that released it. */
  endMs: number
}

type ReleaseOutcome = 'released' | 'watch aborted' | 'found gone' | 'already deleted' | 'outcome unknown' | 'left to expire' | 'interrupted'

interface LockRecord {
  readonly grants: Grant[]
  refused: number
  acquiresUnknown: number
  /** What each acknowledged INCR returned. */
  readonly incrReplies: number[]
  incrsInDoubt: number
  readonly releases: Map<ReleaseOutcome, number>
  /** A holder's own GET, answered while its lock could not yet have expired, found another value. */
  readonly lostEarly: string[]
  /** Error replies by prefix (-TRYAGAIN is the only one a crash should cause). */
  readonly errorReplies: Map<string, number>
  /** Failures that were not replies: resets, refusals, timeouts. */
  connectionErrors: number
}

function newLockRecord(): LockRecord {
  return {
    grants: [],
    refused: 0,
    acquiresUnknown: 0,
    incrReplies: [],
    incrsInDoubt: 0,
    releases: new Map(),
    lostEarly: [],
    errorReplies: new Map(),
    connectionErrors: 0,
  }
}

function countIn<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

function noteError(record: LockRecord, error: unknown): void {
  // ioredis types its ReplyError class as any; the name says what it is.
  if (error instanceof Error && error.name === 'ReplyError') countIn(record.errorReplies, error.message.split(' ', 1)[0] ?? '')
  else record.connectionErrors++
}

/** A connection that never reconnects or resends by itself: a failed command's outcome is the worker's to record. */
async function connect(port: number): Promise<Redis> {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
  })
  // A failure also rejects the command in flight, which is where it is recorded; unheard, the event would end the test.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    client.disconnect()
    throw error
  }
  return client
}

function formatGrant(grant: Grant): string {
  return `${grant.token} (sent ${grant.sentMs.toFixed(1)}) held [${grant.ackMs.toFixed(1)}, ${grant.endMs.toFixed(1)}] ms`
}

/** Compare-and-delete: DEL the lock only if it still holds `grant`'s token, WATCHed so nothing comes between. */
async function release(client: Redis, grant: Grant, lostEarly: string[]): Promise<ReleaseOutcome> {
  await client.watch(LOCK_KEY)
  const holder = await client.get(LOCK_KEY)
  const answeredMs = performance.now()
  if (holder !== grant.token) {
    await client.unwatch()
    if (answeredMs < grant.sentMs + TTL_MS - CLOCK_MARGIN_MS)
      lostEarly.push(`${formatGrant(grant)}, but its GET answered ${JSON.stringify(holder)} at ${answeredMs.toFixed(1)} ms`)
    return 'found gone'
  }
  grant.endMs = Math.min(grant.endMs, performance.now())
  const results = await client.multi().del(LOCK_KEY).exec()
  if (results === null) return 'watch aborted'
  const [error, deleted] = results[0] ?? [new Error('EXEC answered an empty array for one queued DEL'), 0]
  if (error) throw error
  return deleted === 1 ? 'released' : 'already deleted'
}

/**
 * One try at the lock and, if granted, the critical section and the release (or not, for an
 * expiring worker). False if the connection failed it: the worker moves to another member.
 */
async function holdOnce(client: Redis, worker: number, n: number, record: LockRecord, random: Random): Promise<boolean> {
  const token = `w${worker}.${n}`
  const sentMs = performance.now()
  let reply: 'OK' | null
  try {
    reply = await client.set(LOCK_KEY, token, 'PX', TTL_MS, 'NX')
  } catch (error) {
    // The worker may hold the lock without knowing; it never acts on it, and asks again with a new token.
    record.acquiresUnknown++
    noteError(record, error)
    return false
  }
  const ackMs = performance.now()
  if (reply === null) {
    record.refused++
    await pause(between(REFUSED_PAUSE_MS, random))
    return true
  }
  const grant: Grant = { worker, token, sentMs, ackMs, endMs: sentMs + TTL_MS - CLOCK_MARGIN_MS }
  record.grants.push(grant)
  for (let i = 0; i < INCRS_PER_HOLD; i++) {
    try {
      record.incrReplies.push(await client.incr(COUNTER_KEY))
    } catch (error) {
      record.incrsInDoubt++
      noteError(record, error)
      countIn(record.releases, 'interrupted')
      return false
    }
  }
  if (worker >= WORKERS - EXPIRING_WORKERS) {
    countIn(record.releases, 'left to expire')
    return true
  }
  try {
    countIn(record.releases, await release(client, grant, record.lostEarly))
    return true
  } catch (error) {
    countIn(record.releases, 'outcome unknown')
    noteError(record, error)
    return false
  }
}

/** One worker: tries for the lock until stopped, through the members in turn, moving on whenever one fails it. */
async function runWorker(worker: number, ports: () => readonly number[], record: LockRecord, random: Random, stopped: () => boolean): Promise<void> {
  let client: Redis | null = null
  let next = worker
  for (let n = 0; !stopped(); n++) {
    if (!client) {
      const running = ports()
      const port = running.length === 0 ? undefined : running[next++ % running.length]
      // Refused while the member is starting or dying: the next try goes to another.
      client = port === undefined ? null : await connect(port).catch(() => null)
      if (!client) {
        await pause(RECONNECT_PAUSE_MS)
        continue
      }
    }
    if (!(await holdOnce(client, worker, n, record, random))) {
      client.disconnect()
      client = null
    }
  }
  client?.disconnect()
}

/** Grants whose OK arrived before their validity ended. */
function validGrants(grants: readonly Grant[]): Grant[] {
  return grants.filter((grant) => grant.ackMs < grant.endMs)
}

/** Pairs of holders whose validity intervals overlap, each against the earlier interval that ends last. */
function overlaps(grants: readonly Grant[]): [Grant, Grant][] {
  const found: [Grant, Grant][] = []
  let latest: Grant | null = null
  for (const grant of validGrants(grants).sort((a, b) => a.ackMs - b.ackMs)) {
    if (latest && grant.ackMs < latest.endMs) found.push([latest, grant])
    if (!latest || grant.endMs > latest.endMs) latest = grant
  }
  return found
}

/** GET `key` through the member on `port`; null if it failed. */
async function readThrough(port: number, key: string): Promise<string | null> {
  const client = await connect(port).catch(() => null)
  try {
    return client ? await client.get(key) : null
  } catch {
    // A failed read is answered by the caller's next poll.
    return null
  } finally {
    client?.disconnect()
  }
}

/** The counter once every member answers the same value for it, or null if they do not within `timeoutMs`. */
async function agreedCounter(ports: readonly number[], timeoutMs: number): Promise<number | null> {
  const deadlineMs = performance.now() + timeoutMs
  while (performance.now() < deadlineMs) {
    const values = await Promise.all(ports.map((port) => readThrough(port, COUNTER_KEY)))
    const first = values[0]
    if (first !== null && first !== undefined && values.every((value) => value === first)) return Number(first)
    await pause(200)
  }
  return null
}

/** A lock taken as `token` and released by compare-and-delete on a quiet cluster (waiting out a lock left to expire); null if never granted. */
async function lockRoundTrip(port: number, token: string): Promise<ReleaseOutcome | null> {
  const client = await connect(port)
  try {
    const deadlineMs = performance.now() + TTL_MS + LEADER_TIMEOUT_MS
    while (performance.now() < deadlineMs) {
      const sentMs = performance.now()
      if ((await client.set(LOCK_KEY, token, 'PX', TTL_MS, 'NX')) === 'OK') {
        const grant: Grant = { worker: WORKERS, token, sentMs, ackMs: performance.now(), endMs: sentMs + TTL_MS - CLOCK_MARGIN_MS }
        // A lock lost early answers 'found gone', which is reported as such.
        return await release(client, grant, [])
      }
      await pause(100)
    }
    return null
  } finally {
    client.disconnect()
  }
}

interface ChaosRun extends LockRecord {
  readonly kills: number
  readonly leaderKills: number
  /** Locks granted, with validity left, between the first kill and the end of the last restart. */
  readonly grantsDuringChaos: number
}

/** The workers on whichever members are running while one node at a time is killed and restarted, then SETTLE_MS more. */
async function runChaos(t: Test, seed: number, kv: KvProcessCluster): Promise<ChaosRun> {
  const rng = new Rng(seed)
  const record = newLockRecord()
  const ports = () => kv.nodes.filter((node) => kv.cluster.isRunning(node.id)).map(respPort)
  let stopped = false
  const workers = Array.from({ length: WORKERS }, (_, worker) => {
    const workerRng = rng.fork()
    return runWorker(
      worker,
      ports,
      record,
      () => workerRng.float(),
      () => stopped,
    )
  })
  const chaosStartMs = performance.now()
  const { kills, leaderKills } = await killAndRestart(kv.cluster, { ...ONE_NODE_AT_A_TIME, untilMs: chaosStartMs + CHAOS_MS }, () => rng.float())
  const chaosEndMs = performance.now()
  await pause(SETTLE_MS)
  stopped = true
  await Promise.all(workers)
  const grantsDuringChaos = validGrants(record.grants).filter((grant) => grant.ackMs >= chaosStartMs && grant.ackMs <= chaosEndMs).length
  t.comment(
    `${record.grants.length} locks granted (${grantsDuringChaos} during the kills), ${record.refused} refused, ${record.acquiresUnknown} unknown; ` +
      `releases ${[...record.releases].map(([outcome, count]) => `${outcome}×${count}`).join(', ')}; ` +
      `${record.incrReplies.length} INCRs acknowledged, ${record.incrsInDoubt} in doubt; ${record.connectionErrors} connection errors; ` +
      `${kills} kills (${leaderKills} of the leader)`,
  )
  return { ...record, kills, leaderKills, grantsDuringChaos }
}

function checkRun(t: Test, run: ChaosRun, counter: number | null): void {
  const found = overlaps(run.grants)
  t.same(
    found.slice(0, MAX_REPORTED).map(([a, b]) => `${formatGrant(a)} overlaps ${formatGrant(b)}`),
    [],
    `no two holders' validity intervals overlap (${validGrants(run.grants).length} checked, ${found.length} overlaps)`,
  )
  t.same(run.lostEarly.slice(0, MAX_REPORTED), [], `no holder's own GET found its lock gone before it could expire (${run.lostEarly.length} did)`)
  t.ok(run.grantsDuringChaos >= MIN_GRANTS_DURING_CHAOS, `at least ${MIN_GRANTS_DURING_CHAOS} locks granted during the kills (${run.grantsDuringChaos})`)
  t.ok(
    (run.releases.get('released') ?? 0) >= MIN_RELEASED,
    `at least ${MIN_RELEASED} locks released by compare-and-delete (${run.releases.get('released') ?? 0})`,
  )
  t.ok(
    (run.releases.get('left to expire') ?? 0) >= MIN_LEFT_TO_EXPIRE,
    `at least ${MIN_LEFT_TO_EXPIRE} locks left to expire (${run.releases.get('left to expire') ?? 0})`,
  )
  const acknowledged = run.incrReplies.length
  t.ok(counter !== null, `every member answers the same counter value (${counter})`)
  if (counter !== null)
    t.ok(
      acknowledged <= counter && counter <= acknowledged + run.incrsInDoubt,
      `acknowledged ${acknowledged} ≤ counter ${counter} ≤ acknowledged + in doubt ${acknowledged + run.incrsInDoubt}`,
    )
  t.equal(new Set(run.incrReplies).size, acknowledged, 'no two acknowledged INCRs returned the same value')
  t.ok(
    run.incrReplies.every((reply) => reply <= (counter ?? 0)),
    'no acknowledged INCR returned more than the final counter',
  )
  t.same(
    [...run.errorReplies.keys()].filter((prefix) => prefix !== 'TRYAGAIN'),
    [],
    `the only error reply is -TRYAGAIN (${[...run.errorReplies].map(([prefix, count]) => `${prefix}×${count}`).join(', ') || 'none'})`,
  )
}

// One seed's run takes about 40 s (longer on a slow machine, until it has made its kills), past
// tap's default 30 s per file; SEEDS=n runs n of them.
t.setTimeout(PER_RUN_TIMEOUT_MS * seedsFor(NAME, process.env).length)

seededTest(t, NAME, async (seed, t) => {
  const startedMs = performance.now()
  const { kv, unexpectedExits } = await startChaosCluster(t, NODES, { extraArgs: ['--max-raft-state', String(MAX_RAFT_STATE_BYTES), '--lease-reads'] })
  const leader = await waitForLeader(kv.cluster, LEADER_TIMEOUT_MS)
  if (!leader) throw new Error(`no leader within ${LEADER_TIMEOUT_MS} ms of start`)
  // A cluster without the lock's commands fails here, in a second, rather than after the chaos.
  t.equal(await lockRoundTrip(respPort(leader), 'first'), 'released', 'the new cluster grants a lock and releases it by compare-and-delete')

  const run = await runChaos(t, seed, kv)
  t.ok(run.kills >= ONE_NODE_AT_A_TIME.minKills, `at least ${ONE_NODE_AT_A_TIME.minKills} kills (${run.kills})`)
  checkRun(t, run, await agreedCounter(kv.nodes.map(respPort), AGREE_TIMEOUT_MS))

  t.same(unexpectedExits, [], 'no node exited unless killed')
  t.ok(
    kv.nodes.every((node) => kv.cluster.isRunning(node.id)),
    'every node is running at the end',
  )
  const finalLeader = await waitForLeader(kv.cluster, LEADER_TIMEOUT_MS)
  t.ok(finalLeader, 'the cluster has a leader at the end')
  if (finalLeader) t.equal(await lockRoundTrip(respPort(finalLeader), 'last'), 'released', 'and it grants and releases one more lock')
  t.comment(`${((performance.now() - startedMs) / 1000).toFixed(1)} s`)
})
