// The lock service's sequential specification, for lograft's linearizability checker: a history
// of acquires, renewals, releases and reads of one lock is correct if some order of them, within
// their real-time bounds, is what this model allows.

import type { Model } from 'lograft/testing'
import type { LockCommand, LockResult } from './lock-machine.js'

interface ModelState {
  readonly nextToken: number
  readonly holder: string | null
  readonly token: number
  readonly expiresAtMs: number
  /** Log time never goes backwards along a linearization. */
  readonly nowMs: number
}

/** The lock's sequential specification, one lock; the log time each write reports must only grow. */
export const lockModel: Model<ModelState, LockCommand, LockResult> = {
  init: () => ({ nextToken: 1, holder: null, token: 0, expiresAtMs: 0, nowMs: 0 }),
  step(state, command, result) {
    if (result === undefined) return { ok: true, state: stepUnobserved(state, command) }
    // Writes carry the log time stamped in their entries, which only grows along the log; a read
    // carries the serving leader's clock at the read, which orders it against nothing.
    const isRead = command.op === 'holder'
    if (!isRead && result.atMs < state.nowMs) return { ok: false, state }
    const live = state.holder !== null && state.expiresAtMs > result.atMs
    const expect = (next: ModelState, ok: boolean): { ok: boolean; state: ModelState } => ({
      ok:
        result.ok === ok && result.holder === next.holder && (next.holder === null || (result.token === next.token && result.expiresAtMs === next.expiresAtMs)),
      state: isRead ? state : { ...next, nowMs: result.atMs },
    })
    const free = { ...state, holder: null, token: 0, expiresAtMs: 0 }
    const current = live ? state : free
    switch (command.op) {
      case 'holder':
        return expect(current, true)
      case 'acquire':
        if (live) return expect(current, false)
        return expect(
          { ...state, nextToken: state.nextToken + 1, holder: command.owner, token: state.nextToken, expiresAtMs: result.atMs + command.ttlMs },
          true,
        )
      case 'renew':
        if (!live || state.holder !== command.owner || state.token !== command.token) return expect(current, false)
        return expect({ ...state, expiresAtMs: result.atMs + command.ttlMs }, true)
      case 'release':
        if (!live || state.holder !== command.owner || state.token !== command.token) return expect(current, false)
        return expect(free, true)
    }
  },
  readOnly: (command) => command.op === 'holder',
  key: (state) => JSON.stringify(state),
  describeOperation: (command, result) => `${JSON.stringify(command)} -> ${result === undefined ? '?' : JSON.stringify(result)}`,
}

/**
 * An operation whose outcome nobody saw: an acquire may have granted the next token (at a time the
 * model cannot know, so the lease is taken to last until the next observed time passes it).
 */
function stepUnobserved(state: ModelState, command: LockCommand): ModelState {
  if (command.op !== 'acquire' || (state.holder !== null && state.expiresAtMs > state.nowMs)) return state
  return { ...state, nextToken: state.nextToken + 1, holder: command.owner, token: state.nextToken, expiresAtMs: state.nowMs + command.ttlMs }
}
