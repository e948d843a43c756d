// What a replicated state machine is to lograft: a reducer over commands, with codecs for its
// commands, results and state (the state codec is its snapshot format).

export interface Codec<T> {
  encode(value: T): Uint8Array
  decode(bytes: Uint8Array): T
}

export interface StateMachine<State, Command, Result> {
  /** Names the machine in errors and tools. */
  readonly name: string
  initial(): State
  /**
   * Applies one committed command. Deterministic and free of I/O. The fold owns `state`, so a
   * reducer may update it in place and return it (copying a large map per command would not scale).
   */
  apply(state: State, command: Command): { state: State; result: Result }
  /** Commands that never change the state (reads): they skip the session table. */
  isReadOnly(command: Command): boolean
  readonly commandCodec: Codec<Command>
  readonly resultCodec: Codec<Result>
  /** The snapshot format of the state. */
  readonly stateCodec: Codec<State>
}
