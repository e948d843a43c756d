// CPU time per operation of this build against another commit's, measured side by side at the same
// time. On this project's shared 2-core machine the same build's CPU per op moved by half between
// runs minutes apart, so runs one after the other cannot show a 5% change. Here both builds' 3-node
// clusters (bench/lograft-cluster.ts, each started by its own build) take the same closed-loop
// load at once, so a busy spell of the host falls on both.
// Which cluster is started second matters too: in A/A runs (one build twice) the second came out
// about 4% cheaper. So the comparison runs in both orders and cancels it: with forward = this/base
// (this build started second) and reverse = base/this (the base started second), each multiplied
// by the same bias, this/base = sqrt(forward / reverse).
//
// Run with `npm run bench:kv-ab -- REV` (a commit, branch or tag), built in a temporary git
// worktree that shares this checkout's node_modules when their lockfiles match (`npm ci` there
// otherwise). WORKLOAD (set, 95 or 50: the % of GETs; default 95), CLIENTS (64), ROUNDS (3 per
// order), MEASURE_MS (4000 per round) and TARGET (leader, or spread: clients round-robin over the
// members) override the defaults; --lease-reads starts both with it.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Samples, measureLoad, summarize } from './kv-load.js'
import { startLograft } from './kv-lograft.js'
import type { KvClient, KvSystem } from './kv-system.js'
import { type Workload, preloadKeys, workloadLabel } from './kv-workload.js'
import { type CpuProbe, cpuProbe } from './process-cpu.js'
import { median } from './stats.js'
import { printTable } from './table.js'

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const WORKLOAD = process.env.WORKLOAD ?? '95'
const CLIENTS = Number(process.env.CLIENTS ?? 64)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const MEASURE_MS = Number(process.env.MEASURE_MS ?? 4000)
const TARGET = process.env.TARGET ?? 'leader'
/** Both clusters under load, unmeasured, before each order's rounds; and again before each round. */
const WARMUP_MS = 2000
const ROUND_WARMUP_MS = 500
const VALUE_BYTES = 100
const LEASE_READS = process.argv.includes('--lease-reads')

class KvAbError extends Error {
  readonly code = 'ERR_KV_AB'
}

type Start = (dataDirectory: string, options: { leaseReads?: boolean }) => Promise<KvSystem>

interface Running {
  system: KvSystem
  cpu: CpuProbe
  clients: KvClient[]
}

function workloadOf(name: string): Workload {
  if (name === 'set') return { kind: 'set' }
  const percent = Number(name)
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new KvAbError(`WORKLOAD must be set or a % of GETs, got "${name}"`)
  return { kind: 'mixed', getFraction: percent / 100 }
}

/** Checks `rev` out as a git worktree in `directory` and builds it there. */
function buildBaseline(rev: string, directory: string): void {
  const git = (...args: string[]): string => execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8' }).trim()
  const commit = git('rev-parse', '--verify', `${rev}^{commit}`)
  git('worktree', 'add', '--detach', directory, commit)
  const lockfile = (root: string): string => readFileSync(join(root, 'package-lock.json'), 'utf8')
  if (lockfile(directory) === lockfile(REPO)) symlinkSync(join(REPO, 'node_modules'), join(directory, 'node_modules'))
  else execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: directory, stdio: 'inherit' })
  execFileSync(join(directory, 'node_modules', '.bin', 'tsc'), ['-p', directory], { stdio: 'inherit' })
  process.stderr.write(`built ${rev} (${commit.slice(0, 12)}) in ${directory}\n`)
}

async function start(name: string, begin: Start, dataDirectory: string): Promise<Running> {
  const system = await begin(dataDirectory, LEASE_READS ? { leaseReads: true } : {})
  const cpu = cpuProbe(system.memberPids)
  if (cpu === null) throw new KvAbError('no /proc here: CPU time per operation cannot be read')
  await preloadKeys(system, Buffer.alloc(VALUE_BYTES, 0x5a))
  const leader = await system.leader()
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => system.connect(TARGET === 'spread' ? i % system.memberCount : leader)))
  process.stderr.write(`started ${name}\n`)
  return { system, cpu, clients }
}

async function stop(running: Running): Promise<void> {
  await Promise.all(running.clients.map((client) => client.close()))
  await running.system.stop()
}

/** Both clusters under load at once, `ROUNDS` times: each round's CPU ms/op for [first, second]. */
async function measureTogether(first: Running, second: Running, workload: Workload, order: string): Promise<Array<[number, number, number, number]>> {
  const rounds: Array<[number, number, number, number]> = []
  // Warmed up together first, unmeasured: a cold round (JIT, caches) would count against whichever cluster warms slower.
  await Promise.all(
    [first, second].map((running) =>
      measureLoad(running.clients, { workload, valueBytes: VALUE_BYTES, warmupMs: WARMUP_MS, measureMs: 0, keyPrefix: `ab:${order}:warm`, seed: 0 }),
    ),
  )
  for (let round = 0; round < ROUNDS; round++) {
    const windows: Samples[] = await Promise.all(
      [first, second].map((running) =>
        measureLoad(running.clients, {
          workload,
          valueBytes: VALUE_BYTES,
          warmupMs: ROUND_WARMUP_MS,
          measureMs: MEASURE_MS,
          keyPrefix: `ab:${order}:${round}`,
          seed: round + 1,
          cpu: running.cpu,
        }),
      ),
    )
    const [a, b] = windows.map((window) => summarize([window]))
    if (!a || !b || a.cpuMsPerOp === null || b.cpuMsPerOp === null) throw new KvAbError('a round measured no CPU time')
    if (a.errors + b.errors > 0) throw new KvAbError(`requests failed: ${a.firstError ?? b.firstError}`)
    rounds.push([a.opsPerSecond, a.cpuMsPerOp, b.opsPerSecond, b.cpuMsPerOp])
  }
  return rounds
}

const rev = process.argv.slice(2).find((arg) => !arg.startsWith('--'))
if (rev === undefined) throw new KvAbError('usage: npm run bench:kv-ab -- REV [--lease-reads]  (REV: the commit to compare this build with)')
const workload = workloadOf(WORKLOAD)
if (TARGET !== 'leader' && TARGET !== 'spread') throw new KvAbError(`TARGET must be leader or spread, got "${TARGET}"`)
const root = mkdtempSync(join(tmpdir(), 'lograft-bench-kv-ab-'))
const baseline = join(root, 'baseline')
try {
  buildBaseline(rev, baseline)
  const baseStart = ((await import(pathToFileURL(join(baseline, 'dist', 'bench', 'kv-lograft.js')).href)) as { startLograft: Start }).startLograft
  const rows: string[][] = []
  const ratios: Record<'forward' | 'reverse', number[]> = { forward: [], reverse: [] }
  for (const order of ['forward', 'reverse'] as const) {
    // Forward: the base first, this build second; reverse: the other way round.
    const [firstName, firstStart, secondName, secondStart] =
      order === 'forward' ? ['base', baseStart, 'this', startLograft as Start] : ['this', startLograft as Start, 'base', baseStart]
    const first = await start(firstName, firstStart, join(root, `${order}-${firstName}`))
    const second = await start(secondName, secondStart, join(root, `${order}-${secondName}`)).catch(async (error: unknown) => {
      await stop(first)
      throw error
    })
    try {
      for (const [round, [firstOps, firstCpu, secondOps, secondCpu]] of (await measureTogether(first, second, workload, order)).entries()) {
        ratios[order].push(secondCpu / firstCpu)
        rows.push([
          `${order} (${secondName} second)`,
          String(round + 1),
          `${firstName}: ${firstOps.toFixed(0)}`,
          firstCpu.toFixed(4),
          `${secondName}: ${secondOps.toFixed(0)}`,
          secondCpu.toFixed(4),
          (secondCpu / firstCpu).toFixed(3),
        ])
      }
    } finally {
      await Promise.all([stop(first), stop(second)])
    }
  }
  const forward = median(ratios.forward)
  const reverse = median(ratios.reverse)
  console.log(
    `${workloadLabel(workload)}, ${CLIENTS} clients on each cluster's ${TARGET === 'spread' ? 'members, round-robin' : 'leader'}${LEASE_READS ? ', --lease-reads' : ''}; ` +
      `both clusters under load at once, ${ROUNDS} rounds of ${MEASURE_MS} ms per order; this build against ${rev}`,
  )
  console.log()
  printTable(['order', 'round', 'first: ops/s', 'CPU ms/op', 'second: ops/s', 'CPU ms/op', 'second/first'], rows)
  console.log()
  console.log(`medians: forward (this/base, this second) ${forward.toFixed(3)}, reverse (base/this, base second) ${reverse.toFixed(3)}`)
  console.log(`position bias (the second cluster's advantage, sqrt(forward × reverse)): ${Math.sqrt(forward * reverse).toFixed(3)}`)
  console.log(`this build's CPU per operation is ${Math.sqrt(forward / reverse).toFixed(3)}× the base's (sqrt(forward / reverse))`)
} finally {
  if (existsSync(baseline)) execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', baseline])
  rmSync(root, { recursive: true, force: true })
}
