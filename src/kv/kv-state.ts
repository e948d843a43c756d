// The KV machine's state: every key's value (a string or a hash), the deadlines of keys with a time
// to live, and log time. Expiry is decided by log time alone (the leader's clock stamped in each
// entry, never going back), so every replica sees a key expire at the same log position. An expired
// key stays in `entries` until a write touches it or a purge entry deletes it, and reads treat it as
// missing meanwhile.

import { DeadlineQueue } from './deadline-queue.js'
import { ScanIndex } from './scan-index.js'

/** A hash: field → value, binary strings. */
export type KvHash = Map<string, string>
/** What a key holds. */
export type KvValue = string | KvHash

/** The KV machine's state: keys with values, their deadlines, and log time. */
export class KvState {
  /** Every key with its value, expired ones included until written or purged. */
  entries = new Map<string, KvValue>()
  /** Keys with a time to live, and the log time (ms since the epoch) they expire at. */
  deadlines = new Map<string, number>()
  /** The latest log time of a write applied (ms since the epoch). */
  clockMs = 0
  // Derived from the above, never encoded: which deadline comes next, and SCAN's buckets (built
  // on the first SCAN, so a store that is never scanned does not pay for them).
  private dueQueue = new DeadlineQueue()
  private scanBuckets: ScanIndex | null = null

  /** A state holding `entries`, none with a deadline (tests and old snapshots). */
  static of(entries: Iterable<readonly [string, KvValue]>, deadlines: Iterable<readonly [string, number]> = [], clockMs = 0): KvState {
    const state = new KvState()
    for (const [key, value] of entries) state.entries.set(key, value)
    for (const [key, at] of deadlines) state.setDeadline(key, at)
    state.clockMs = clockMs
    return state
  }

  /** How many keys the state holds, counting expired ones not yet purged (as Redis's DBSIZE does). */
  get size(): number {
    return this.entries.size
  }

  /** Whether `key` exists and has not expired by log time. */
  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  /** The value of `key`, undefined when it is missing or has expired by log time. */
  get(key: string): KvValue | undefined {
    const value = this.entries.get(key)
    if (value === undefined) return undefined
    const at = this.deadlines.get(key)
    return at === undefined || at > this.clockMs ? value : undefined
  }

  /** The string at `key`, undefined if missing; 'wrongtype' if it holds a hash. */
  getString(key: string): string | undefined | 'wrongtype' {
    const value = this.get(key)
    return typeof value === 'object' ? 'wrongtype' : value
  }

  /** Before a write to `key`: deletes it if it has expired, so the write sees it missing. */
  expireIfDue(key: string): void {
    const at = this.deadlines.get(key)
    if (at !== undefined && at <= this.clockMs) this.delete(key)
  }

  /** Sets the value, keeping the key's deadline. */
  set(key: string, value: KvValue): void {
    if (!this.entries.has(key)) this.scanBuckets?.add(key)
    this.entries.set(key, value)
  }

  /** Deletes the key and its deadline; whether it was there (expired or not). */
  delete(key: string): boolean {
    this.deadlines.delete(key)
    if (!this.entries.delete(key)) return false
    this.scanBuckets?.delete(key)
    return true
  }

  /** Gives the key a deadline in log time, or none (undefined). */
  setDeadline(key: string, at: number | undefined): void {
    if (at === undefined) {
      this.deadlines.delete(key)
      return
    }
    this.deadlines.set(key, at)
    this.dueQueue.push(at, key)
  }

  /** Log time moves to `timeMs` if that is later: it never goes back, whatever a new leader's clock says. */
  advanceClock(timeMs: number): void {
    if (timeMs > this.clockMs) this.clockMs = timeMs
  }

  /** Deletes every key. */
  clear(): void {
    // New maps rather than clear(): an encoding in progress still holds the old ones, unchanged.
    this.entries = new Map()
    this.deadlines = new Map()
    this.dueQueue = new DeadlineQueue()
    this.scanBuckets = null
  }

  /** The earliest deadline of a key still holding it, or null when no key has one. */
  nextDeadline(): number | null {
    return this.dueQueue.earliest((at, key) => this.deadlines.get(key) === at)
  }

  /** Up to `max` keys whose deadlines are at or before `timeMs`. */
  keysDueBy(timeMs: number, max: number): string[] {
    return this.dueQueue.dueBy(timeMs, max, (at, key) => this.deadlines.get(key) === at)
  }

  /** SCAN's bucket index, built on first use and kept up to date after. */
  scanIndex(): ScanIndex {
    this.scanBuckets ??= ScanIndex.of(this.entries.keys())
    return this.scanBuckets
  }
}
