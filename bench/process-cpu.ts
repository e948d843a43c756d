// The CPU time of the benchmarks' server processes, read from the processes themselves: Linux's
// /proc/<pid>/stat gives each process's user and system time (all its threads) in clock ticks.
// A probe sums them over a cluster's members, so a benchmark can charge a window's CPU to the
// operations it completed; /proc/stat gives the whole machine's. Elsewhere than Linux there is no
// /proc, and no probe.

import { existsSync, readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

/** Linux's usual USER_HZ, when `getconf CLK_TCK` does not answer. */
const DEFAULT_TICKS_PER_SECOND = 100
/** Fields of /proc/<pid>/stat after the parenthesised command name, which may hold spaces: state is field 3. */
const FIRST_FIELD_AFTER_NAME = 3
const PPID_FIELD = 4
const UTIME_FIELD = 14
const STIME_FIELD = 15

export class ProcessCpuError extends Error {
  readonly code = 'ERR_PROCESS_CPU'
}

/** The user+system CPU milliseconds that the probed processes have used so far, together. */
export type CpuProbe = () => number

/**
 * A probe of processes `pids`, each of which must be a child of this process (so the benchmark
 * measures the members it started, not a stranger that reused a number); null without /proc.
 */
export function cpuProbe(pids: readonly number[]): CpuProbe | null {
  if (!existsSync('/proc/self/stat')) return null
  for (const pid of pids) {
    const parent = statField(pid, PPID_FIELD)
    if (parent !== process.pid)
      throw new ProcessCpuError(`process ${pid} is not a child of this benchmark (${process.pid}) but of ${parent}; its CPU time would not be a member's`)
  }
  const msPerTick = 1000 / ticksPerSecond()
  return () => pids.reduce((total, pid) => total + (statField(pid, UTIME_FIELD) + statField(pid, STIME_FIELD)) * msPerTick, 0)
}

function ticksPerSecond(): number {
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim())
  return Number.isInteger(ticks) && ticks > 0 ? ticks : DEFAULT_TICKS_PER_SECOND
}

/** Field `field` (1-based, as proc(5) numbers them) of /proc/<pid>/stat, which must be a number. */
function statField(pid: number, field: number): number {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch (error) {
    throw new ProcessCpuError(`cannot read /proc/${pid}/stat (did the process exit?): ${error instanceof Error ? error.message : String(error)}`)
  }
  const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[field - FIRST_FIELD_AFTER_NAME])
  if (!Number.isFinite(value)) throw new ProcessCpuError(`field ${field} of /proc/${pid}/stat is not a number: ${stat}`)
  return value
}

/**
 * The whole machine's CPU ticks so far, busy and in all, from /proc/stat's first line (null
 * elsewhere than Linux): two readings give the share of all cores busy between them.
 */
export function machineCpuReading(): { busy: number; total: number } | null {
  let line: string
  try {
    line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? ''
  } catch {
    return null
  }
  // cpu user nice system idle iowait irq softirq steal ...: idle and iowait are the idle time.
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  const total = ticks.slice(0, 8).reduce((sum, tick) => sum + tick, 0)
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
  return { busy: total - idle, total }
}
