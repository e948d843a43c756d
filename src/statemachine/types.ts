/**
 * Turns a machine's commands, results or state into bytes and back. What it encodes goes into the
 * log and snapshots, so a change of format must still decode what earlier versions wrote.
 */
export interface Codec<T> {
  /** The bytes of `value`. */
  encode(value: T): Uint8Array
  /** The value of bytes this codec encoded; throws on bytes it cannot read. */
  decode(bytes: Uint8Array): T
}

/** Where and when a command is applied: the same on every replica, so a reducer may depend on it. */
export interface ApplyContext {
  /** The command's log index (for reads: the index the read is linearized at). */
  readonly index: number
  readonly term: number
  /**
   * The leader's clock when it took the command, stamped in the entry: time as the log sees it,
   * identical on every replica and in every replay (lease expiry, TTLs). For reads: the serving
   * leader's clock now.
   */
  readonly timeMs: number
}

/**
 * What a replicated state machine is to lograft: a reducer over commands, with codecs for its
 * commands, results and state (the state codec is its snapshot format). Every replica folds the
 * same committed commands through `apply` in the same order, so every replica reaches the same state.
 */
export interface StateMachine<State, Command, Result> {
  /** Names the machine in errors and tools. */
  readonly name: string
  /** The state before any command: a fresh value on each call, since the fold updates it in place. */
  initial(): State
  /**
   * Applies one committed command. Deterministic and free of I/O. The fold owns `state`, so a
   * reducer may update it in place and return it (copying a large map per command would not scale).
   */
  apply(state: State, command: Command, context: ApplyContext): { state: State; result: Result }
  /** Commands that never change the state (reads): they skip the session table. */
  isReadOnly(command: Command): boolean
  readonly commandCodec: Codec<Command>
  readonly resultCodec: Codec<Result>
  /** The snapshot format of the state. */
  readonly stateCodec: Codec<State>
  /**
   * Optional: encodes the state piece by piece while commands go on applying, so that a large
   * state does not stop the node (and its heartbeats) for as long as encoding all of it takes.
   * The pieces together must equal stateCodec.encode(state) as `state` was at this call.
   */
  encodeIncrementally?(state: State): StateEncoding<Command>
  /**
   * Optional, with dueCommand: the earliest log time (ms) at which the machine has work of its own
   * (a key's time to live ending), or null when it has none. The leader then proposes dueCommand.
   */
  nextDueMs?(state: State): number | null
  /** The command that does what is due by `nowMs` (the leader's clock), or null if nothing is yet. */
  dueCommand?(state: State, nowMs: number): Command | null
}

/** A state encoding in progress: the state as it was when it began, whatever is applied meanwhile. */
export interface StateEncoding<Command> {
  /** Called before each command applied while the encoding is unfinished: keep what it will change. */
  preserve(command: Command): void
  /**
   * The next piece, of about `budgetBytes` or more (or less, even empty, where the encoding spent
   * this piece's time on other work, such as measuring a length); null once the whole state has
   * been given.
   */
  next(budgetBytes: number): Uint8Array | null
}
