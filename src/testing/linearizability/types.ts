// The vocabulary of the linearizability checker: operations as clients saw them, the sequential
// model they are checked against, and what a check concludes.

/**
 * One operation as a client saw it. An operation whose outcome is unknown (the client timed out or
 * crashed) has `returnMs = Infinity` and no output: it may have taken effect at any moment after
 * its call, or never.
 */
export interface Operation<Input, Output> {
  readonly clientId: number
  readonly input: Input
  /** Undefined when the operation has no output, or when its outcome is unknown. */
  readonly output: Output | undefined
  readonly callMs: number
  readonly returnMs: number
}

/** What Model.step concludes about one operation. */
export interface StepResult<State> {
  /** False when `output` cannot be what the operation returns in `state`. */
  readonly ok: boolean
  /** The state after the operation. */
  readonly state: State
}

/** An independently checkable part of a history, such as the operations on one key. */
export interface Partition<Input, Output> {
  readonly key: string
  readonly operations: readonly Operation<Input, Output>[]
}

/** The sequential specification a history must be equivalent to. States are never mutated. */
export interface Model<State, Input, Output> {
  /** The state before any operation. */
  init(): State
  /** Applies `input` to `state`; an undefined `output` was not observed and constrains nothing. */
  step(state: State, input: Input, output: Output | undefined): StepResult<State>
  /** Splits a history into parts that are linearizable exactly when each part is (e.g. by key). */
  partition?(operations: readonly Operation<Input, Output>[]): Partition<Input, Output>[]
  /**
   * True for an operation that never changes the state (a read). The search then linearizes it as
   * soon as the state allows, without branching: if any linearization exists, one with the read
   * placed there does too. A wrong `true` can make a good history look illegal.
   */
  readOnly?(input: Input): boolean
  /** Equal for states that behave the same from here on: the search memoises on it. */
  key(state: State): string
  /** One operation for reports, such as `get("x") → "1"`; `output` is undefined when not observed. */
  describeOperation(input: Input, output: Output | undefined): string
  /** For reports; `key(state)` when absent. */
  describeState?(state: State): string
}

/** A history in event-list form: the position of an event in the list is its time. */
export type HistoryEvent<Input, Output> =
  | { readonly kind: 'call'; readonly id: number; readonly clientId: number; readonly input: Input }
  | { readonly kind: 'return'; readonly id: number; readonly output: Output | undefined }

/** How checkOperations and checkEvents run. */
export interface CheckOptions {
  /**
   * Budget for the whole check, over all partitions, in ms of real time; past it the outcome is
   * 'unknown'. Default DEFAULT_CHECK_TIMEOUT_MS.
   */
  timeoutMs?: number
}

/** One step of a partial linearization: which operation, and the model state after it. */
export interface LinearizedStep {
  /** Index into the failing partition's `operations`. */
  readonly operationIndex: number
  readonly stateAfter: string
}

/** The smallest partition that has no linearization, ready to be reported. */
export interface IllegalPartition<Input, Output> {
  readonly key: string
  /** The partition's operations sorted by call time. */
  readonly operations: readonly Operation<Input, Output>[]
  /** `describeOperation` of each of `operations`, in the same order. */
  readonly descriptions: readonly string[]
  /** The deepest partial linearization the search reached, in linearization order. */
  readonly partialLinearization: readonly LinearizedStep[]
}

/** How much of the history a check covered, and how long it took. */
export interface CheckSummary {
  /** Partitions whose search finished within the budget. */
  readonly partitionsChecked: number
  readonly partitionsTotal: number
  readonly operationsTotal: number
  /** Real time the check took. */
  readonly elapsedMs: number
}

/**
 * What a check concludes: 'ok' (linearizable), 'illegal' (some partition has no linearization; a
 * definite answer even if the budget ran out on another) or 'unknown' (the budget ran out first).
 */
export type CheckResult<Input, Output> =
  | (CheckSummary & { readonly outcome: 'ok' })
  | (CheckSummary & { readonly outcome: 'unknown'; readonly timeoutMs: number })
  | (CheckSummary & {
      readonly outcome: 'illegal'
      /** Every partition found illegal, smallest first. */
      readonly illegalKeys: readonly string[]
      readonly failure: IllegalPartition<Input, Output>
    })
