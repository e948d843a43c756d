// redis-benchmark against lograft and against Redis itself, both writing durably: SET, GET, INCR
// and MSET, pipelined 16 deep over 50 connections, with 100-byte values, measured on
//   redis             one redis-server (appendonly yes, appendfsync always, no RDB), no replication:
//                     the upper bound of what a RESP server that fsyncs each write can do here.
//   lograft leader    a 3-member lograft cluster (`lograft node` processes, classic-level, fsync) on
//                     loopback (bench/lograft-cluster.ts), redis-benchmark on the leader's RESP port;
//   lograft follower  the same cluster through a follower's RESP port, which forwards to the leader.
// Each test runs on the three in turn before the next test, so a busy spell of the machine (other
// work shares its 2 cores) falls on one test rather than on one system. A test that fails on a
// system (an error reply, a timeout) shows its error in that system's cell, never a number.
// Needs Debian's redis-server and redis-tools (redis-benchmark).
//
// Redis answers tens of times faster, so it gets more requests (-n) per test than lograft, to run
// each test a few seconds on each system rather than a fraction of a second on redis.
//
// Run with `npm run bench:redis`; REQUESTS (-n per test on lograft), REDIS_REQUESTS (-n per test on
// redis), CLIENTS (-c), PIPELINE (-P) and TIMEOUT_MS (per redis-benchmark run) override the defaults.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LograftCluster, startLograftCluster } from './lograft-cluster.js'
import { type BenchmarkOutcome, type BenchmarkSettings, redisBenchmarkVersion, runRedisBenchmark } from './redis-benchmark.js'
import { type RedisServer, redisServerVersion, startRedisServer } from '../test/helpers/redis-server.js'
import { printTable } from './table.js'

/** redis-benchmark's test names, in the order it would run them, and how the table shows them. */
const TESTS = [
  ['set', 'SET'],
  ['get', 'GET'],
  ['incr', 'INCR'],
  ['mset', 'MSET (10 keys)'],
] as const
const TARGETS = ['redis', 'lograft leader', 'lograft follower'] as const
type Target = (typeof TARGETS)[number]

function positiveInteger(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isSafeInteger(value) || value <= 0) {
    process.stderr.write(`bench:redis: ${name} must be a positive integer, not ${process.env[name]}\n`)
    process.exit(2)
  }
  return value
}

const REQUESTS: Record<Target, number> = {
  redis: positiveInteger('REDIS_REQUESTS', 1_000_000),
  'lograft leader': positiveInteger('REQUESTS', 50_000),
  'lograft follower': positiveInteger('REQUESTS', 50_000),
}
const settings: Omit<BenchmarkSettings, 'requests'> = {
  clients: positiveInteger('CLIENTS', 50),
  pipeline: positiveInteger('PIPELINE', 16),
  valueBytes: 100,
  timeoutMs: positiveInteger('TIMEOUT_MS', 120_000),
}

const redisVersion = redisServerVersion()
const benchmarkVersion = redisBenchmarkVersion()
if (!redisVersion || !benchmarkVersion) {
  const missing = [redisVersion ? null : 'redis-server', benchmarkVersion ? null : 'redis-benchmark'].filter(Boolean).join(' and ')
  process.stderr.write(`bench:redis: ${missing} not found on PATH; install them with \`sudo apt-get install -y redis-server redis-tools\`\n`)
  process.exit(1)
}

const root = mkdtempSync(join(tmpdir(), 'lograft-bench-redis-'))
const stopping = new AbortController()
let redis: RedisServer | null = null
let lograft: LograftCluster | null = null
let cleaning: Promise<void> | null = null
const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    stopping.abort()
    await Promise.all([redis?.stop(), lograft?.stop()])
    rmSync(root, { recursive: true, force: true })
  })())
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping redis-server and the lograft cluster, removing ${root}\n`)
    void cleanUp().finally(() => process.exit(130))
  })
}

const outcomes = new Map<string, BenchmarkOutcome>()
const outcomeKey = (test: string, target: Target): string => `${test} ${target}`
const notes = new Set<string>()
const loadBefore = loadavg()
try {
  const directory = join(root, 'redis')
  mkdirSync(directory, { recursive: true })
  redis = await startRedisServer({ persistence: ['--dir', directory, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''] })
  lograft = await startLograftCluster(join(root, 'lograft'))
  const leader = await lograft.leader()
  const follower = (leader + 1) % lograft.memberCount
  const ports: Record<Target, { host: string; port: number }> = {
    redis: { host: redis.host, port: redis.port },
    'lograft leader': { host: lograft.host, port: lograft.respPort(leader) },
    'lograft follower': { host: lograft.host, port: lograft.respPort(follower) },
  }
  for (const [test] of TESTS) {
    for (const target of TARGETS) {
      const { host, port } = ports[target]
      const outcome = await runRedisBenchmark(host, port, test, { ...settings, requests: REQUESTS[target] }, stopping.signal)
      stopping.signal.throwIfAborted()
      outcomes.set(outcomeKey(test, target), outcome)
      for (const warning of outcome.warnings) notes.add(`${target}: redis-benchmark said "${warning}"`)
      process.stderr.write(
        `measured ${test} on ${target}: ${outcome.kind === 'measured' ? `${outcome.requestsPerSecond.toFixed(0)} requests/s` : outcome.error}\n`,
      )
    }
  }
  const leaderAfter = await lograft.leader()
  if (leaderAfter !== leader)
    notes.add(`the lograft leader changed during the run (member ${leader + 1}, then ${leaderAfter + 1}): its rows mix leader and follower`)
} finally {
  await cleanUp()
}
const loadAfter = loadavg()

const formatLoad = (load: number[]): string => load.map((value) => value.toFixed(2)).join(' ')
console.log(
  `${benchmarkVersion} -c ${settings.clients} -P ${settings.pipeline} -d ${settings.valueBytes} -n ${REQUESTS.redis} on redis, ${REQUESTS['lograft leader']} on lograft; no -r, so every SET, GET and MSET key is the literal key:__rand_int__`,
)
console.log(
  `redis: redis-server ${redisVersion}, one node, no replication, appendonly yes, appendfsync always (the AOF fsynced before replies go out, once per event-loop turn)`,
)
console.log('lograft: 3 `lograft node` members on loopback, classic-level with fsync; "leader" and "follower" are the RESP port redis-benchmark used')
for (const note of notes) console.log(note)
console.log(`load average (1/5/15 min): ${formatLoad(loadBefore)} before, ${formatLoad(loadAfter)} after`)
console.log()

/** A result's cells: requests/s and p50, or the error across both; and the ratio to redis. */
function cells(test: string, target: Target): string[] {
  const outcome = outcomes.get(outcomeKey(test, target))
  const redisOutcome = outcomes.get(outcomeKey(test, 'redis'))
  if (!outcome) return ['not run', '-', ...(target === 'redis' ? [] : ['-'])]
  if (outcome.kind === 'failed') return [`error: ${shortError(outcome.error)}`, '-', ...(target === 'redis' ? [] : ['-'])]
  const measured = [outcome.requestsPerSecond.toFixed(0), outcome.p50Ms.toFixed(3)]
  if (target === 'redis') return measured
  const ratio = redisOutcome?.kind === 'measured' ? (outcome.requestsPerSecond / redisOutcome.requestsPerSecond).toFixed(2) : '-'
  return [...measured, ratio]
}

/** Redis's unknown-command error goes on to quote the arguments (here 100-byte values): cut that. */
function shortError(error: string): string {
  return error.replace(/, with args beginning with:.*$/, '')
}

printTable(
  ['test', 'redis req/s', 'p50 ms', 'leader req/s', 'p50 ms', 'leader/redis', 'follower req/s', 'p50 ms', 'follower/redis'],
  TESTS.map(([test, label]) => [label, ...TARGETS.flatMap((target) => cells(test, target))]),
)
