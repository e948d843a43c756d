// The tables of bench/kv.ts: every system's throughput, latency and CPU time per operation in each
// row, lograft over etcd against the goals, and what TLS or metrics cost lograft.

import type { Measurement } from './kv-load.js'
import { type Workload, workloadLabel } from './kv-workload.js'
import { printTable } from './table.js'

export const TARGETINGS = ['spread', 'leader'] as const
export type Targeting = (typeof TARGETINGS)[number]

/** One row of the benchmark: a workload at a client count, for every system and targeting. */
export interface Cell {
  readonly workload: Workload
  readonly clients: number
  /** The goal for lograft's throughput over etcd's, where there is one. */
  readonly throughputGoal?: number
}

export interface Row {
  system: string
  targeting: Targeting
  cell: Cell
  result: Measurement
}

export function printRows(rows: readonly Row[]): void {
  printTable(
    ['system', 'workload', 'clients', 'ops/s', 'p50 ms', 'p99 ms', 'CPU ms/op', 'errors'],
    rows.map(({ system, targeting, cell, result }) => [
      `${system} (${targeting})`,
      workloadLabel(cell.workload),
      String(cell.clients),
      result.opsPerSecond.toFixed(0),
      result.p50Ms.toFixed(2),
      result.p99Ms.toFixed(2),
      result.cpuMsPerOp === null ? '-' : result.cpuMsPerOp.toFixed(3),
      String(result.errors),
    ]),
  )
}

/** lograft over etcd per row: throughput (higher is better) and CPU time per operation (lower is better). */
export function printComparison(rows: readonly Row[], cells: readonly Cell[], cpuGoal: number): void {
  printTable(
    ['workload', 'clients', 'ops/s lograft/etcd (spread)', '(leader)', 'goal', 'met', 'CPU/op lograft/etcd (spread)', '(leader)', 'goal', 'met'],
    cells.map((cell) => {
      const throughput = ratios(rows, cell, 'lograft', 'etcd', 'opsPerSecond')
      const cpu = ratios(rows, cell, 'lograft', 'etcd', 'cpuMsPerOp')
      const goal = cell.throughputGoal
      return [
        workloadLabel(cell.workload),
        String(cell.clients),
        ...throughput.map(formatRatio),
        goal === undefined ? '-' : `>= ${goal}`,
        goal === undefined ? '-' : throughput.map((ratio) => (ratio >= goal ? 'yes' : 'no')).join(', '),
        ...cpu.map(formatRatio),
        `<= ${cpuGoal}`,
        cpu.map((ratio) => (ratio <= cpuGoal ? 'yes' : 'no')).join(', '),
      ]
    }),
  )
}

/** `system` over plain lograft per row: the throughput it keeps and the CPU time per operation it adds. */
export function printCost(rows: readonly Row[], cells: readonly Cell[], system: string, label: string): void {
  printTable(
    ['workload', 'clients', `ops/s ${label} (spread)`, '(leader)', `CPU/op ${label} (spread)`, '(leader)'],
    cells.map((cell) => [
      workloadLabel(cell.workload),
      String(cell.clients),
      ...ratios(rows, cell, system, 'lograft', 'opsPerSecond').map(formatRatio),
      ...ratios(rows, cell, system, 'lograft', 'cpuMsPerOp').map(formatRatio),
    ]),
  )
}

/** `measure` of `system` over that of `base` in `cell`, per targeting; NaN where either is missing. */
function ratios(rows: readonly Row[], cell: Cell, system: string, base: string, measure: 'opsPerSecond' | 'cpuMsPerOp'): number[] {
  const value = (name: string, targeting: Targeting): number =>
    rows.find((row) => row.system === name && row.targeting === targeting && row.cell === cell)?.result[measure] ?? NaN
  return TARGETINGS.map((targeting) => value(system, targeting) / value(base, targeting))
}

function formatRatio(ratio: number): string {
  return Number.isNaN(ratio) ? '-' : ratio.toFixed(2)
}
