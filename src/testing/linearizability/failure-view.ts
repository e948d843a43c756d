// What both reports show of an illegal partition: where the search got stuck, which operations
// it did linearize and in what order, and a bounded window of the history around the stuck point.

import type { IllegalPartition } from './types.js'

/** A partition can hold thousands of operations; a report shows this many around the failure. */
export const DEFAULT_REPORT_OPERATIONS = 200
/** The end of the partial linearization matters most: the state the search got stuck in. */
export const DEFAULT_REPORT_STEPS = 20
/** Most of the window lies before the stuck operation: the evidence against it came earlier. */
const WINDOW_SHARE_BEFORE = 0.75

export interface FailureView {
  /** The window of operations shown: indices [first, end) of the partition's operations. */
  readonly first: number
  readonly end: number
  /**
   * The operation with a known outcome, not in the partial linearization, that returns first:
   * the search could place nothing that lets it come next.
   */
  readonly stuck: number | undefined
  /** Position (1-based) in the partial linearization, by operation index. */
  readonly linearizedAt: ReadonlyMap<number, number>
  /** The steps of the partial linearization shown: from this index to its end. */
  readonly firstStep: number
}

/** How much of a failure formatReport and renderHtmlReport show. */
export interface ReportOptions {
  /** How many of the failing partition's operations to show, around the stuck one. Default DEFAULT_REPORT_OPERATIONS. */
  maxOperations?: number
  /** How many of the last steps of the partial linearization to list. Default DEFAULT_REPORT_STEPS. */
  maxSteps?: number
}

export function viewFailure(failure: IllegalPartition<unknown, unknown>, options: ReportOptions = {}): FailureView {
  const maxOperations = options.maxOperations ?? DEFAULT_REPORT_OPERATIONS
  const maxSteps = options.maxSteps ?? DEFAULT_REPORT_STEPS
  const linearizedAt = new Map(failure.partialLinearization.map((step, i) => [step.operationIndex, i + 1]))
  let stuck: number | undefined
  failure.operations.forEach((operation, index) => {
    if (linearizedAt.has(index) || operation.returnMs === Infinity) return
    if (stuck === undefined || operation.returnMs < (failure.operations[stuck]?.returnMs ?? Infinity)) stuck = index
  })
  const total = failure.operations.length
  const count = Math.min(total, Math.max(1, maxOperations))
  const wanted = (stuck ?? 0) - Math.floor(count * WINDOW_SHARE_BEFORE)
  const first = Math.max(0, Math.min(wanted, total - count))
  const firstStep = Math.max(0, failure.partialLinearization.length - maxSteps)
  return { first, end: first + count, stuck, linearizedAt, firstStep }
}
