// The vocabulary the log and Raft share: a log entry and the hard state. A leaf module, so the
// Raft core speaks it without depending on the store that persists it.

/** One entry of the replicated log, at `index` and written in `term`. */
export interface LogEntry {
  readonly index: number
  readonly term: number
  /** Opaque to the log; Raft gives it meaning (command, no-op, configuration change). */
  readonly type: number
  readonly data: Uint8Array
}

/** What Raft must never forget across a crash (Figure 2's persistent state, plus commit). */
export interface HardState {
  readonly term: number
  readonly votedFor: string | null
  /** Known-committed index. Saved opportunistically: a stale value only delays re-applying. */
  readonly commitIndex: number
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, votedFor: null, commitIndex: 0 })
