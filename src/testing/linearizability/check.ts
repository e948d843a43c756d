// Checks a whole history: validates it, splits it into the model's partitions, searches each one
// within one overall time budget, and reports the smallest partition that has no linearization.

import { assert } from '../../base/assert.js'
import { HistoryError } from './errors.js'
import { operationsFromEvents } from './history-events.js'
import { searchPartition } from './search.js'
import type { CheckOptions, CheckResult, HistoryEvent, IllegalPartition, LinearizedStep, Model, Operation, Partition } from './types.js'

/** Long enough for any history a test produces; a pathological one gives 'unknown', not a hang. */
export const DEFAULT_CHECK_TIMEOUT_MS = 60_000

/** The partition key used when the model does not partition its histories. */
export const WHOLE_HISTORY_KEY = '(whole history)'

/**
 * Checks whether `operations` are linearizable with respect to `model`, one partition at a time,
 * smallest first, within one time budget. Throws HistoryError for a malformed history: a non-finite
 * call time, a return before its call, or an output on an operation whose outcome is unknown.
 */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS
  const startMs = performance.now()
  operations.forEach(validate)
  const partitions = (model.partition?.(operations) ?? [{ key: WHOLE_HISTORY_KEY, operations }])
    .map(byCallTime)
    // Small partitions first: within a budget that runs out, more of the history gets checked.
    .sort((a, b) => a.operations.length - b.operations.length)

  const illegal: Array<{ partition: Partition<Input, Output>; deepest: readonly number[] }> = []
  let partitionsChecked = 0
  let timedOut = false
  for (const partition of partitions) {
    const result = searchPartition(model, partition.operations, startMs + timeoutMs)
    if (result.outcome === 'timeout') {
      timedOut = true
      break
    }
    partitionsChecked++
    if (result.outcome === 'illegal') illegal.push({ partition, deepest: result.deepest })
  }

  const summary = {
    partitionsChecked,
    partitionsTotal: partitions.length,
    operationsTotal: operations.length,
    elapsedMs: performance.now() - startMs,
  }
  const smallest = illegal[0]
  // An illegal partition is a definite answer even if the budget ran out on another one.
  if (smallest !== undefined) {
    return {
      ...summary,
      outcome: 'illegal',
      illegalKeys: illegal.map(({ partition }) => partition.key),
      failure: describeFailure(model, smallest.partition, smallest.deepest),
    }
  }
  return timedOut ? { ...summary, outcome: 'unknown', timeoutMs } : { ...summary, outcome: 'ok' }
}

/** The event-list form: each event's position in `events` is its time. */
export function checkEvents<State, Input, Output>(
  model: Model<State, Input, Output>,
  events: readonly HistoryEvent<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  return checkOperations(model, operationsFromEvents(events), options)
}

function validate(operation: Operation<unknown, unknown>, index: number): void {
  const where = `operation ${index} (client ${operation.clientId})`
  if (!Number.isFinite(operation.callMs)) throw new HistoryError(`${where}: callMs must be a finite number, got ${operation.callMs}`)
  if (!(operation.returnMs >= operation.callMs)) {
    throw new HistoryError(`${where}: returnMs ${operation.returnMs} is before callMs ${operation.callMs}`)
  }
  if (operation.returnMs === Infinity && operation.output !== undefined) {
    throw new HistoryError(`${where}: an operation with an unknown outcome (returnMs = Infinity) cannot have an output`)
  }
}

function byCallTime<Input, Output>(partition: Partition<Input, Output>): Partition<Input, Output> {
  return { key: partition.key, operations: [...partition.operations].sort((a, b) => a.callMs - b.callMs) }
}

function describeFailure<State, Input, Output>(
  model: Model<State, Input, Output>,
  partition: Partition<Input, Output>,
  deepest: readonly number[],
): IllegalPartition<Input, Output> {
  const describeState = (state: State): string => (model.describeState ? model.describeState(state) : model.key(state))
  let state = model.init()
  const partialLinearization: LinearizedStep[] = deepest.map((operationIndex) => {
    const operation = partition.operations[operationIndex] as Operation<Input, Output>
    const next = model.step(state, operation.input, operation.output)
    assert(next.ok, () => `replaying the partial linearization of "${partition.key}" failed at operation ${operationIndex}`)
    state = next.state
    return { operationIndex, stateAfter: describeState(state) }
  })
  return {
    key: partition.key,
    operations: partition.operations,
    descriptions: partition.operations.map((operation) => model.describeOperation(operation.input, operation.output)),
    partialLinearization,
  }
}
