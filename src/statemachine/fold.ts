// The fold at the heart of every replicated state machine: committed message → next state. The
// runtime runs it live with RxJS scan over Raft's committed$; `lograft log replay` runs the same
// function over the stored log. A snapshot is the fold's checkpoint: the machine's state plus the
// session table.

import type { AppliedMessage } from '../raft/node.js'
import { BinaryReader, BinaryWriter, bytesEqual } from '../base/bytes.js'
import { envelopeCodec } from './envelope.js'
import { type SessionLimits, SessionTable } from './sessions.js'
import type { ApplyContext, StateMachine } from './types.js'

/** What became of one committed message in the fold. */
export type OutcomeKind =
  /** The command ran. */
  | 'applied'
  /** A retry of the client's last request: the recorded result, not run again. */
  | 'duplicate'
  /** Older than the client's last request: ignored. */
  | 'stale'
  /** A leader's no-op entry: nothing applied. */
  | 'noop'
  /** The state was replaced by a snapshot. */
  | 'snapshot'

/**
 * The fold's account of one committed message (ReplicatedStateMachine.outcomes$), with the session
 * of the command it carried (clientId 0: none).
 */
export interface Outcome<Result> {
  readonly kind: OutcomeKind
  readonly index: number
  readonly term: number
  readonly clientId: number
  readonly sequence: number
  /** The command's result (applied, duplicate); undefined otherwise. */
  readonly result: Result | undefined
}

export interface Folded<State, Result> {
  state: State
  sessions: SessionTable<Result>
  /** Index and term of the last message folded in. */
  index: number
  term: number
  last: Outcome<Result> | null
}

export function initialFold<State, Command, Result>(machine: StateMachine<State, Command, Result>, limits: SessionLimits): Folded<State, Result> {
  return { state: machine.initial(), sessions: new SessionTable<Result>(limits), index: 0, term: 0, last: null }
}

/** Applies one committed message to `folded` (in place) and returns it; `beforeApply` sees each command just before it runs. */
export function foldMessage<State, Command, Result>(
  machine: StateMachine<State, Command, Result>,
  folded: Folded<State, Result>,
  message: AppliedMessage,
  beforeApply?: (command: Command) => void,
): Folded<State, Result> {
  folded.index = message.index
  folded.term = message.term
  if (message.kind === 'snapshot') {
    const restored = decodeCheckpoint(machine, message.data, folded.sessions.limits)
    folded.state = restored.state
    folded.sessions = restored.sessions
    folded.last = outcome<Result>('snapshot', message, 0, 0, undefined)
    return folded
  }
  if (message.kind === 'noop') {
    folded.last = outcome<Result>('noop', message, 0, 0, undefined)
    return folded
  }
  const envelope = envelopeCodec.decode(message.data)
  const command = machine.commandCodec.decode(envelope.command)
  const context = { index: message.index, term: message.term, timeMs: envelope.timeMs }
  const { kind, result } = applyCommand(machine, folded, envelope.clientId, envelope.sequence, context, command, beforeApply)
  folded.last = outcome(kind, message, envelope.clientId, envelope.sequence, result)
  return folded
}

/**
 * Runs one command against the state with exactly-once sessions: a retry of a client's last
 * request gets its recorded result; reads and session-less commands are never recorded.
 */
export function applyCommand<State, Command, Result>(
  machine: StateMachine<State, Command, Result>,
  folded: Folded<State, Result>,
  clientId: number,
  sequence: number,
  context: ApplyContext,
  command: Command,
  beforeApply?: (command: Command) => void,
): { kind: 'applied' | 'duplicate' | 'stale'; result: Result | undefined } {
  const { timeMs } = context
  folded.sessions.advanceTime(timeMs)
  const tracked = clientId !== 0 && !machine.isReadOnly(command)
  if (tracked) {
    const check = folded.sessions.check(clientId, sequence)
    if (check.kind === 'duplicate') return { kind: 'duplicate', result: check.result }
    if (check.kind === 'stale') return { kind: 'stale', result: undefined }
  }
  beforeApply?.(command)
  const { state, result } = machine.apply(folded.state, command, context)
  folded.state = state
  if (tracked) folded.sessions.record(clientId, sequence, result, timeMs)
  return { kind: 'applied', result }
}

function outcome<Result>(kind: OutcomeKind, message: AppliedMessage, clientId: number, sequence: number, result: Result | undefined): Outcome<Result> {
  return { kind, index: message.index, term: message.term, clientId, sequence, result }
}

/**
 * Opens every checkpoint, naming its layout: a snapshot from a build with another layout (or
 * bytes that are no checkpoint at all) is refused with a clear error instead of misread.
 */
const CHECKPOINT_MAGIC_TEXT = 'LRC2'
const CHECKPOINT_MAGIC = Uint8Array.from(Buffer.from(CHECKPOINT_MAGIC_TEXT, 'latin1'))

/** A snapshot's data is not a checkpoint this build can read. */
export class CheckpointFormatError extends Error {
  readonly code = 'ERR_CHECKPOINT_FORMAT'
}

/**
 * The snapshot of a fold: a magic, the session table, then the machine's state. The state comes
 * last, and runs to the end, so it can be written piece by piece after the head (checkpointHead).
 */
export function encodeCheckpoint<State, Command, Result>(machine: StateMachine<State, Command, Result>, folded: Folded<State, Result>): Uint8Array {
  return new BinaryWriter().raw(checkpointHead(machine, folded)).raw(machine.stateCodec.encode(folded.state)).finish()
}

/** What a checkpoint holds before the state: the magic and the length-prefixed session table. */
export function checkpointHead<State, Command, Result>(machine: StateMachine<State, Command, Result>, folded: Folded<State, Result>): Uint8Array {
  const sessions = folded.sessions.encode(machine.resultCodec)
  return new BinaryWriter().raw(CHECKPOINT_MAGIC).bytes(sessions).finish()
}

/** The machine's state bytes within a checkpoint, without decoding anything else. */
export function checkpointStateBytes(checkpoint: Uint8Array): Uint8Array {
  const reader = openCheckpoint(checkpoint)
  reader.bytes()
  return reader.rest()
}

/** A reader past the checkpoint's magic; throws CheckpointFormatError if it is not there. */
function openCheckpoint(checkpoint: Uint8Array): BinaryReader {
  const magic = checkpoint.subarray(0, CHECKPOINT_MAGIC.length)
  if (!bytesEqual(magic, CHECKPOINT_MAGIC)) {
    throw new CheckpointFormatError(
      `snapshot data of ${checkpoint.length} bytes does not start with the checkpoint magic ${JSON.stringify(CHECKPOINT_MAGIC_TEXT)}: written by another layout of lograft, or not a checkpoint`,
    )
  }
  return new BinaryReader(checkpoint.subarray(CHECKPOINT_MAGIC.length))
}

export function decodeCheckpoint<State, Command, Result>(
  machine: StateMachine<State, Command, Result>,
  bytes: Uint8Array,
  limits: SessionLimits,
): { state: State; sessions: SessionTable<Result> } {
  const reader = openCheckpoint(bytes)
  const sessions = SessionTable.decode(reader.bytes(), machine.resultCodec, limits)
  const state = machine.stateCodec.decode(reader.rest())
  return { state, sessions }
}
