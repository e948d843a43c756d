// A plain-text account of a check: one line when the history is linearizable, and for an illegal
// one the failing key's operations in call order, the deepest partial linearization found, and the
// operation the search could not place.

import { type ReportOptions, viewFailure } from './failure-view.js'
import { formatMs, quote } from './text.js'
import type { CheckResult, IllegalPartition } from './types.js'

/**
 * A check's result as plain text: one line unless the history is illegal; then also the failing
 * key's operations around where the search got stuck, the end of the deepest partial
 * linearization, and the operation it could not place.
 */
export function formatReport<Input, Output>(result: CheckResult<Input, Output>, options: ReportOptions = {}): string {
  const checked = `${result.partitionsChecked} of ${result.partitionsTotal} partitions, ${result.operationsTotal} operations, ${formatMs(result.elapsedMs)} ms`
  switch (result.outcome) {
    case 'ok':
      return `linearizable (${checked})\n`
    case 'unknown':
      return `unknown: the ${formatMs(result.timeoutMs)} ms budget ran out (${checked})\n`
    case 'illegal': {
      const illegalKeys = result.illegalKeys.map((key) => quote(key)).join(', ')
      return [
        `not linearizable: key ${quote(result.failure.key)} has no linearization`,
        `illegal keys: ${illegalKeys} (${checked})`,
        '',
        ...formatFailure(result.failure, options),
      ].join('\n')
    }
  }
}

function formatFailure(failure: IllegalPartition<unknown, unknown>, options: ReportOptions): string[] {
  const view = viewFailure(failure, options)
  const operations = failure.operations
  const label = (index: number): string => `#${index} ${failure.descriptions[index] ?? ''}`
  const rows = [['#', 'client', 'call ms', 'return ms', 'linearized', 'operation']]
  for (let index = view.first; index < view.end; index++) {
    const operation = operations[index]
    if (operation === undefined) continue
    const position = view.linearizedAt.get(index)
    const placed = position !== undefined ? String(position) : index === view.stuck ? 'STUCK' : '-'
    const outcome = operation.returnMs === Infinity ? ' (outcome unknown)' : ''
    rows.push([
      `#${index}`,
      String(operation.clientId),
      formatMs(operation.callMs),
      formatMs(operation.returnMs),
      placed,
      `${failure.descriptions[index] ?? ''}${outcome}`,
    ])
  }
  const lines = [`history of key ${quote(failure.key)}: ${operations.length} operations by call time`]
  if (view.first > 0) lines.push(`  … ${view.first} earlier operations not shown`)
  lines.push(...alignColumns(rows).map((row) => `  ${row}`))
  if (view.end < operations.length) lines.push(`  … ${operations.length - view.end} later operations not shown`)

  const steps = failure.partialLinearization
  lines.push('', `deepest partial linearization: ${steps.length} of ${operations.length} operations`)
  if (view.firstStep > 0) lines.push(`  … ${view.firstStep} earlier steps not shown`)
  for (let i = view.firstStep; i < steps.length; i++) {
    const step = steps[i]
    if (step !== undefined) lines.push(`  ${i + 1}. ${label(step.operationIndex)}  ⇒ ${step.stateAfter}`)
  }
  const stuck = view.stuck === undefined ? undefined : operations[view.stuck]
  if (view.stuck !== undefined && stuck !== undefined) {
    lines.push(
      '',
      `stuck at ${label(view.stuck)} (client ${stuck.clientId}, ${formatMs(stuck.callMs)}–${formatMs(stuck.returnMs)} ms): ` +
        'the first operation to return that no order explored could linearize',
    )
  }
  return [...lines, '']
}

function alignColumns(rows: readonly string[][]): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, cell.length)))
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  )
}
