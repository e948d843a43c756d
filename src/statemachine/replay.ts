// Replay: the state a machine had at any index of a stored log, by the same fold the live node
// runs — from the log's snapshot (if any) through the entries after it. The answer to "what did
// the state look like at index N?" is the one the node would have given.

import { openExistingDiskLog } from '../log/backends.js'
import type { LogStore } from '../log/log-store.js'
import { EntryType } from '../raft/types.js'
import { foldMessage, initialFold } from './fold.js'
import { DEFAULT_SESSION_LIMITS, type SessionLimits } from './sessions.js'
import type { StateMachine } from './types.js'

/**
 * Thrown by {@link replayLog} when the index to stop at is inside the log's snapshot (the entries
 * before it are gone) or past the last index.
 */
export class ReplayRangeError extends Error {
  readonly code = 'ERR_REPLAY_RANGE'
}

/** How far {@link replayLog} folds, and with which session limits. */
export interface ReplayOptions {
  /** The index to stop at; default the log's last. */
  to?: number
  /** Must match the cluster's for sessions to expire alike; the default is the runtime's. */
  sessionLimits?: SessionLimits
}

/** A machine's state at one index of a log, as {@link replayLog} found it. */
export interface Replayed<State> {
  /** The machine's state after the entry at `index`. */
  readonly state: State
  /** Index and term of the last entry folded in (the snapshot's, if nothing came after it). */
  readonly index: number
  readonly term: number
  /** How many clients' exactly-once sessions the state holds. */
  readonly sessionCount: number
}

/**
 * Folds `machine` over the log in `source` (a data directory, opened for the call and closed
 * after it, or an open LogStore) up to `options.to`. The directory's node must be stopped (LevelDB
 * allows one process at a time); a directory holding no database is refused with NoDatabaseError.
 */
export async function replayLog<State, Command, Result>(
  source: string | LogStore,
  machine: StateMachine<State, Command, Result>,
  options: ReplayOptions = {},
): Promise<Replayed<State>> {
  const store = typeof source === 'string' ? await openExistingDiskLog(source) : source
  try {
    const target = options.to ?? store.lastIndex
    const snapshot = store.snapshotMeta
    if (snapshot && target < snapshot.lastIncludedIndex) {
      throw new ReplayRangeError(
        `index ${target} is inside the snapshot, which covers everything through ${snapshot.lastIncludedIndex}; the log before it was compacted`,
      )
    }
    if (target > store.lastIndex) throw new ReplayRangeError(`index ${target} is past the end of the log (last index ${store.lastIndex})`)
    let folded = initialFold(machine, options.sessionLimits ?? DEFAULT_SESSION_LIMITS)
    if (snapshot) {
      const data = await store.readSnapshot()
      folded = foldMessage(machine, folded, {
        kind: 'snapshot',
        index: snapshot.lastIncludedIndex,
        term: snapshot.lastIncludedTerm,
        data,
        appMeta: snapshot.appMeta,
      })
    }
    const from = (snapshot?.lastIncludedIndex ?? 0) + 1
    if (from <= target) {
      for (const entry of await store.readEntries(from, target)) {
        // No-ops and configuration changes change no machine's state.
        folded =
          entry.type === EntryType.Command
            ? foldMessage(machine, folded, { kind: 'command', index: entry.index, term: entry.term, data: entry.data })
            : foldMessage(machine, folded, { kind: 'noop', index: entry.index, term: entry.term })
      }
    }
    return { state: folded.state, index: folded.index, term: folded.term, sessionCount: folded.sessions.size }
  } finally {
    if (typeof source === 'string') await store.close()
  }
}
