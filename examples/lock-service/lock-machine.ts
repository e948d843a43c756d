// A lock service as a lograft state machine: named locks with leases that expire by log time (the
// leader's clock stamped in each entry, so every replica expires a lease at the same log position,
// and no replica's own clock decides), and fencing tokens — a number that grows with every grant,
// which a protected resource checks so that a holder whose lease ran out cannot write after the
// next holder did.
//
// Serve it: lograft node --machine ./lock-machine.js ...   Use it: lograft call, or a MachineClerk.

import { type ApplyContext, type StateMachine, jsonCodec } from 'lograft'

export type LockCommand =
  /** Take `lock` for `ttlMs` if it is free (never held, released, or its lease ran out). */
  | { readonly op: 'acquire'; readonly lock: string; readonly owner: string; readonly ttlMs: number }
  /** Extend the lease of a lock this owner holds under `token`. */
  | { readonly op: 'renew'; readonly lock: string; readonly owner: string; readonly token: number; readonly ttlMs: number }
  /** Give back a lock this owner holds under `token`. */
  | { readonly op: 'release'; readonly lock: string; readonly owner: string; readonly token: number }
  /** Who holds `lock` now (a read: it changes nothing). */
  | { readonly op: 'holder'; readonly lock: string }

export interface LockResult {
  /** Whether the command did what it asked (a read always succeeds). */
  readonly ok: boolean
  /** The holder's fencing token (the new one, after an acquire that succeeded); 0 if the lock is free. */
  readonly token: number
  /** Who holds the lock after the command; null if free. */
  readonly holder: string | null
  /** When the holder's lease ends, in log time; 0 if free. */
  readonly expiresAtMs: number
  /** The log time the command took effect at (for reads: the serving leader's clock). */
  readonly atMs: number
}

interface Lease {
  readonly owner: string
  readonly token: number
  readonly expiresAtMs: number
}

export interface LockState {
  /** The next fencing token: one more than any granted so far. */
  nextToken: number
  locks: Map<string, Lease>
}

/** The longest lease anyone may ask for: a bound, so a crashed client cannot hold a lock for ever. */
export const MAX_TTL_MS = 60_000

/** The lease on `lock`, unless there is none or it has run out at `nowMs`. */
function liveLease(state: LockState, lock: string, nowMs: number): Lease | null {
  const lease = state.locks.get(lock)
  return lease && lease.expiresAtMs > nowMs ? lease : null
}

function describe(ok: boolean, lease: Lease | null, atMs: number): LockResult {
  return { ok, token: lease?.token ?? 0, holder: lease?.owner ?? null, expiresAtMs: lease?.expiresAtMs ?? 0, atMs }
}

function apply(state: LockState, command: LockCommand, { timeMs }: ApplyContext): { state: LockState; result: LockResult } {
  const lease = liveLease(state, command.lock, timeMs)
  switch (command.op) {
    case 'holder':
      return { state, result: describe(true, lease, timeMs) }
    case 'acquire': {
      if (lease) return { state, result: describe(false, lease, timeMs) }
      const granted: Lease = { owner: command.owner, token: state.nextToken, expiresAtMs: timeMs + Math.min(Math.max(0, command.ttlMs), MAX_TTL_MS) }
      state.nextToken++
      state.locks.set(command.lock, granted)
      return { state, result: describe(true, granted, timeMs) }
    }
    case 'renew': {
      if (!lease || lease.owner !== command.owner || lease.token !== command.token) return { state, result: describe(false, lease, timeMs) }
      const renewed: Lease = { ...lease, expiresAtMs: timeMs + Math.min(Math.max(0, command.ttlMs), MAX_TTL_MS) }
      state.locks.set(command.lock, renewed)
      return { state, result: describe(true, renewed, timeMs) }
    }
    case 'release': {
      if (!lease || lease.owner !== command.owner || lease.token !== command.token) return { state, result: describe(false, lease, timeMs) }
      state.locks.delete(command.lock)
      return { state, result: describe(true, null, timeMs) }
    }
  }
}

const stateJson = jsonCodec<{ nextToken: number; locks: Array<[string, Lease]> }>()

/** The lock service's machine: the module's export that `lograft node --machine` serves. */
export const machine: StateMachine<LockState, LockCommand, LockResult> = {
  name: 'locks',
  initial: () => ({ nextToken: 1, locks: new Map() }),
  apply,
  isReadOnly: (command) => command.op === 'holder',
  commandCodec: jsonCodec<LockCommand>(),
  resultCodec: jsonCodec<LockResult>(),
  stateCodec: {
    encode: (state) => stateJson.encode({ nextToken: state.nextToken, locks: [...state.locks] }),
    decode: (bytes) => {
      const { nextToken, locks } = stateJson.decode(bytes)
      return { nextToken, locks: new Map(locks) }
    },
  },
}
