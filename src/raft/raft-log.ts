// Raft's log as the protocol core sees it: the entries after the last snapshot, held in memory,
// with the commit, applied and stable (durable) marks, and the configurations its entries hold.
// Pure: storage learns of changes through handoffs, and reports back when a handoff is durable.

import type { LogEntry } from '../base/entries.js'
import { assert } from '../base/assert.js'
import { type Configuration, type ConfigurationDecoder, ConfigurationHistory } from './membership.js'
import { EntryType } from './types.js'

/** Entries handed to storage in one write; see takeUnstable and markStable. */
export interface Handoff {
  readonly lastIndex: number
  /** Lowest index truncated after the handoff was taken: entries from there on were not kept. */
  lowestTruncation: number
}

export class RaftLog {
  private entries: LogEntry[]
  private snapIndex: number
  private snapTerm: number
  /** Highest index known committed. */
  committed: number
  /** Highest index handed to the state machine. */
  applied: number
  /** Highest index known durable, with every entry before it. */
  private stable: number
  /** First index not yet handed to storage. */
  private unstableFrom: number
  private readonly pending: Handoff[] = []
  /** The configurations: the snapshot's (or the bootstrap one) and each Configuration entry's. */
  readonly configurations: ConfigurationHistory

  constructor(
    snapshotIndex: number,
    snapshotTerm: number,
    entries: LogEntry[],
    committed: number,
    baseConfiguration: Configuration,
    private readonly decodeConfiguration: ConfigurationDecoder,
  ) {
    this.snapIndex = snapshotIndex
    this.snapTerm = snapshotTerm
    this.entries = entries
    entries.forEach((entry, offset) => assert(entry.index === snapshotIndex + 1 + offset, 'recovered entries must be contiguous'))
    this.configurations = new ConfigurationHistory(snapshotIndex, baseConfiguration)
    for (const entry of entries) this.noteConfiguration(entry)
    this.committed = Math.max(snapshotIndex, Math.min(committed, this.lastIndex))
    this.applied = snapshotIndex
    this.stable = this.lastIndex
    this.unstableFrom = this.lastIndex + 1
  }

  get snapshotIndex(): number {
    return this.snapIndex
  }

  get snapshotTerm(): number {
    return this.snapTerm
  }

  get firstIndex(): number {
    return this.snapIndex + 1
  }

  get lastIndex(): number {
    return this.snapIndex + this.entries.length
  }

  get lastTerm(): number {
    return this.entries.length > 0 ? (this.entries[this.entries.length - 1] as LogEntry).term : this.snapTerm
  }

  get stableIndex(): number {
    return this.stable
  }

  /** The term at `index`, or undefined when it is compacted away or past the end. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm
    if (index < this.snapIndex || index > this.lastIndex) return undefined
    return (this.entries[index - this.snapIndex - 1] as LogEntry).term
  }

  entry(index: number): LogEntry {
    assert(index > this.snapIndex && index <= this.lastIndex, () => `entry ${index} outside (${this.snapIndex}, ${this.lastIndex}]`)
    return this.entries[index - this.snapIndex - 1] as LogEntry
  }

  /** Entries from `from` on, at most `maxCount` and about `maxBytes` (never fewer than one). */
  slice(from: number, maxCount: number, maxBytes: number): LogEntry[] {
    assert(from > this.snapIndex, () => `slice from ${from} reaches into the snapshot at ${this.snapIndex}`)
    const out: LogEntry[] = []
    let bytes = 0
    for (let index = from; index <= this.lastIndex && out.length < maxCount; index++) {
      const entry = this.entry(index)
      if (out.length > 0 && bytes + entry.data.length > maxBytes) break
      bytes += entry.data.length
      out.push(entry)
    }
    return out
  }

  /** §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as this one? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm || (lastTerm === this.lastTerm && lastIndex >= this.lastIndex)
  }

  /** Leader path: appends new entries at the end. */
  append(entry: LogEntry): void {
    assert(entry.index === this.lastIndex + 1, () => `append at ${entry.index} after last ${this.lastIndex}`)
    assert(entry.term >= this.lastTerm, 'terms in the log never decrease')
    this.entries.push(entry)
    this.noteConfiguration(entry)
  }

  /**
   * Follower path: merges entries that follow a matching prevLogIndex. An entry that conflicts
   * (same index, other term) truncates the log from there; entries already present are kept, so
   * a stale, reordered AppendEntries never shortens the log. Returns the last index it covered.
   */
  merge(prevLogIndex: number, incoming: readonly LogEntry[]): number {
    for (let offset = 0; offset < incoming.length; offset++) {
      const entry = incoming[offset] as LogEntry
      if (entry.index <= this.snapIndex) continue
      const existing = this.term(entry.index)
      if (existing === entry.term) continue
      if (existing !== undefined) {
        assert(entry.index > this.committed, () => `conflict at committed index ${entry.index} (commit ${this.committed})`)
        this.truncateFrom(entry.index)
      }
      for (let rest = offset; rest < incoming.length; rest++) {
        const added = incoming[rest] as LogEntry
        this.entries.push(added)
        this.noteConfiguration(added)
      }
      break
    }
    return prevLogIndex + incoming.length
  }

  /** Where a leader should retry after prevLogIndex did not match (the §5.3 optimisation). */
  conflictHint(prevLogIndex: number): { conflictIndex: number; conflictTerm: number } {
    if (prevLogIndex > this.lastIndex) return { conflictIndex: this.lastIndex + 1, conflictTerm: 0 }
    const conflictTerm = this.term(prevLogIndex) as number
    let index = prevLogIndex
    while (index - 1 > this.snapIndex && this.term(index - 1) === conflictTerm) index--
    return { conflictIndex: index, conflictTerm }
  }

  /** The last index holding `term`, searching at or below `from`; 0 if the log has none. */
  lastIndexOfTerm(term: number, from: number): number {
    for (let index = Math.min(from, this.lastIndex); index >= this.snapIndex; index--) {
      const t = this.term(index) as number
      if (t === term) return index
      if (t < term) return 0
    }
    return 0
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false
    assert(index <= this.lastIndex, () => `commit ${index} past last index ${this.lastIndex}`)
    this.committed = index
    return true
  }

  /** Entries committed, durable here, and not yet applied. */
  takeApplicable(): LogEntry[] {
    const upTo = Math.min(this.committed, this.stable)
    if (upTo <= this.applied) return []
    const out = this.entries.slice(this.applied - this.snapIndex, upTo - this.snapIndex)
    this.applied = upTo
    return out
  }

  /** Entries not yet handed to storage; the returned handoff is passed back to markStable. */
  takeUnstable(): { entries: LogEntry[]; handoff: Handoff } | null {
    if (this.unstableFrom > this.lastIndex) return null
    const entries = this.entries.slice(this.unstableFrom - this.snapIndex - 1)
    const handoff: Handoff = { lastIndex: this.lastIndex, lowestTruncation: Number.POSITIVE_INFINITY }
    this.pending.push(handoff)
    this.unstableFrom = this.lastIndex + 1
    return { entries, handoff }
  }

  /** Storage made `handoff` durable (handoffs complete in the order they were taken). */
  markStable(handoff: Handoff): void {
    assert(this.pending[0] === handoff, 'handoffs must become durable in order')
    this.pending.shift()
    this.stable = Math.max(this.stable, Math.min(handoff.lastIndex, handoff.lowestTruncation - 1, this.lastIndex))
  }

  /** Drops the entries a local snapshot through `index` covers. */
  compact(index: number): void {
    assert(index <= this.applied, () => `snapshot at ${index} beyond applied ${this.applied}`)
    if (index <= this.snapIndex) return
    const term = this.term(index) as number
    this.entries = this.entries.slice(index - this.snapIndex)
    this.snapIndex = index
    this.snapTerm = term
    this.configurations.compact(index)
  }

  /**
   * Installs a leader's snapshot (§7): keeps the entries after it if the log holds its last entry
   * with the same term, otherwise discards the whole log.
   */
  restore(index: number, term: number, configuration: Configuration): void {
    assert(index > this.committed, () => `restore to ${index} would move back from commit ${this.committed}`)
    const keepAfter = this.term(index) === term
    this.configurations.restore(index, configuration, keepAfter)
    if (keepAfter) {
      this.entries = this.entries.slice(index - this.snapIndex)
    } else {
      for (const handoff of this.pending) handoff.lowestTruncation = Math.min(handoff.lowestTruncation, index + 1)
      this.entries = []
    }
    this.snapIndex = index
    this.snapTerm = term
    this.committed = index
    this.applied = index
    this.stable = Math.max(this.stable, index)
    this.unstableFrom = Math.max(this.unstableFrom, index + 1)
    if (this.unstableFrom > this.lastIndex + 1) this.unstableFrom = this.lastIndex + 1
  }

  private noteConfiguration(entry: LogEntry): void {
    if (entry.type === EntryType.Configuration) this.configurations.append(entry.index, this.decodeConfiguration(entry.data))
  }

  private truncateFrom(index: number): void {
    this.configurations.truncateFrom(index)
    this.entries.length = index - this.snapIndex - 1
    for (const handoff of this.pending) handoff.lowestTruncation = Math.min(handoff.lowestTruncation, index)
    this.stable = Math.min(this.stable, index - 1)
    this.unstableFrom = Math.min(this.unstableFrom, index)
  }
}
