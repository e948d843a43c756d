// The durable Raft log and snapshot store on any abstract-level database: classic-level on disk,
// memory-level in simulation, one code path. Every write Raft depends on is synced before its
// promise resolves; concurrent writes are group-committed; every read is checksum-verified.

import { randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import type { AbstractBatchOptions, AbstractLevel, AbstractPutOptions } from 'abstract-level'
import { Observable } from 'rxjs'
import { assert } from '../base/assert.js'
import {
  ClusterIdRequiredError,
  CompactedError,
  CorruptionError,
  IdentityMismatchError,
  LogStoreClosedError,
  LogStoreFailedError,
  NonContiguousAppendError,
  OutOfRangeError,
  StaleSnapshotError,
} from './errors.js'
import { type BatchOp, GroupCommitQueue, type GroupCommitStats } from './group-commit.js'
import {
  entryKey,
  entryKeyRange,
  generationOfChunkKey,
  hardStateKey,
  bootstrapConfigurationKey,
  identityKey,
  indexOfEntryKey,
  knownPeerKey,
  knownPeerKeyRange,
  peerIdOfKnownPeerKey,
  snapshotChunkKey,
  snapshotChunkKeyRange,
  snapshotMetaKey,
} from './keys.js'
import {
  decodeEntryValue,
  decodeHardState,
  decodeBootstrapConfiguration,
  decodeIdentity,
  decodeKnownPeer,
  decodeSnapshotMeta,
  encodeEntryPuts,
  encodeHardState,
  encodeBootstrapConfiguration,
  encodeIdentity,
  encodeKnownPeer,
  encodeSnapshotMeta,
  seal,
  storedEntryBytes,
  unseal,
} from './records.js'
import { EMPTY_HARD_STATE, type HardState, type IdentityClaim, type LogEntry, type SnapshotMeta, type StoredIdentity } from './types.js'

/** Any abstract-level database with binary keys and values. */
export type LevelDatabase = AbstractLevel<string | Uint8Array | Buffer, Uint8Array, Uint8Array>

/** How {@link LogStore.open} opens a store. */
export interface LogStoreOptions {
  /** Names the store in errors and logs (e.g. the node id or data directory). */
  name: string
  /**
   * Refuse to open data that belongs to another node or cluster; a new directory records this
   * identity (with a fresh random incarnation) and must be given its cluster id.
   */
  identity?: IdentityClaim
  /** fsync every durable write. Default true; false only for benchmarks of the fsync cost. */
  sync?: boolean
  /** Group commit stops coalescing at this many bytes per batch. Default 8 MiB. */
  maxBatchBytes?: number
  /** Snapshot data is stored in chunks of this size. Default 1 MiB. */
  snapshotChunkBytes?: number
}

/** The bytes a store holds, as stored (keys and values); see {@link LogStore.sizes}. */
export interface StoreSizes {
  /** Hard state plus every retained entry, as stored (keys and values). */
  raftStateBytes: number
  /** Snapshot data plus its metadata. */
  snapshotBytes: number
}

/** What a snapshot covers; the store computes the rest of SnapshotMeta. */
export interface SnapshotPoint {
  lastIncludedIndex: number
  lastIncludedTerm: number
  appMeta?: Uint8Array
  /** Raft's configuration at lastIncludedIndex. */
  configuration?: Uint8Array
}

const DEFAULT_MAX_BATCH_BYTES = 8 * 1024 * 1024
const DEFAULT_SNAPSHOT_CHUNK_BYTES = 1024 * 1024

/**
 * The durable Raft log and snapshot store on any abstract-level database: classic-level on disk
 * ({@link openDiskLog}), memory-level in simulation ({@link openMemoryLog}), one code path. Every
 * write Raft depends on is synced before its promise resolves, and writes become durable in the
 * order they were made; concurrent writes are group-committed; every read is checksum-verified.
 * After a failed write the store refuses all further work ({@link LogStoreFailedError}).
 */
export class LogStore {
  /** Names the store in errors and logs (LogStoreOptions.name). */
  readonly name: string
  private readonly syncWrites: boolean
  private readonly snapshotChunkBytes: number
  private readonly queue: GroupCommitQueue
  private hard: HardState = EMPTY_HARD_STATE
  private hardStateBytes = 0
  private snapshot: SnapshotMeta | null = null
  private snapshotMetaBytes = 0
  /** Index of entryTerms[0] and entryBytes[0]: one past the snapshot. Reflects accepted writes. */
  private first = 1
  private entryTerms: number[] = []
  private entryBytes: number[] = []
  private retainedEntryBytes = 0
  private nextGeneration = 1
  private pendingCleanups = new Set<Promise<void>>()
  private failure: Error | null = null
  private closed = false
  private stored: StoredIdentity | null = null
  private bootstrap: Uint8Array | null = null
  private readonly peers = new Map<string, string>()

  private constructor(
    private readonly db: LevelDatabase,
    options: LogStoreOptions,
  ) {
    this.name = options.name
    this.syncWrites = options.sync ?? true
    this.snapshotChunkBytes = options.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES
    assert(this.snapshotChunkBytes > 0, 'snapshotChunkBytes must be positive')
    this.queue = new GroupCommitQueue(
      (ops) => this.writeBatch(ops),
      options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
      (cause) => (this.failure = new LogStoreFailedError(this.name, cause)),
    )
  }

  /** Opens (and if needed creates) the log in `db`, verifying every stored record. */
  static async open(db: LevelDatabase, options: LogStoreOptions): Promise<LogStore> {
    if (db.status !== 'open') await db.open()
    const store = new LogStore(db, options)
    try {
      await store.recover(options.identity)
    } catch (error) {
      // The store owns the database; a refused open must not keep its directory locked.
      await db.close()
      throw error
    }
    return store
  }

  // ---- reads of the in-memory view (reflects every accepted write, durable or in flight) ----

  /** The identity recorded in the store, if it was opened with one. */
  get identity(): StoredIdentity | null {
    return this.stored
  }

  /** The configuration the cluster was founded with, if this node founded it (see saveBootstrapConfiguration). */
  get bootstrapConfiguration(): Uint8Array | null {
    return this.bootstrap
  }

  /** Each peer's data-directory incarnation as this node first saw it. */
  get knownPeers(): ReadonlyMap<string, string> {
    return this.peers
  }

  get hardState(): HardState {
    return this.hard
  }

  get snapshotMeta(): SnapshotMeta | null {
    return this.snapshot
  }

  /** The first index still in the log (one past the snapshot). */
  get firstIndex(): number {
    return this.first
  }

  get lastIndex(): number {
    return this.first + this.entryTerms.length - 1
  }

  /** Term of the entry at `index`; the snapshot's last term at its last index. */
  termAt(index: number): number {
    if (index === 0) return 0
    if (this.snapshot && index === this.snapshot.lastIncludedIndex) return this.snapshot.lastIncludedTerm
    if (index < this.first) throw new CompactedError(this.name, index, this.first)
    if (index > this.lastIndex) throw new OutOfRangeError(this.name, index, this.lastIndex)
    return this.entryTerms[index - this.first] as number
  }

  get lastTerm(): number {
    return this.termAt(this.lastIndex)
  }

  /** The bytes of hard state plus retained log, and of the snapshot, as stored now. */
  sizes(): StoreSizes {
    return {
      raftStateBytes: this.hardStateBytes + this.retainedEntryBytes,
      snapshotBytes: this.snapshot ? this.snapshot.sizeBytes + this.snapshotMetaBytes : 0,
    }
  }

  get groupCommitStats(): Readonly<GroupCommitStats> {
    return this.queue.stats
  }

  // ---- durable writes ----

  /**
   * Makes the log `log[..entries[0].index-1] ++ entries`, truncating any suffix that conflicts, in
   * one atomic synced batch. Entries must be contiguous and start within or right after the log.
   */
  append(entries: readonly LogEntry[]): Promise<void> {
    return this.write({ entries })
  }

  /** Saves the hard state in one synced write. Its term must not be lower than the current one. */
  saveHardState(state: HardState): Promise<void> {
    return this.write({ hardState: state })
  }

  /** Hard state and entries in one atomic synced batch. */
  write(update: { hardState?: HardState; entries?: readonly LogEntry[] }): Promise<void> {
    const refusal = this.refusal()
    if (refusal) return Promise.reject(refusal)
    const ops: BatchOp[] = []
    let bytes = 0
    try {
      // Checked before anything is staged: a refused write must leave the view untouched.
      if (update.hardState) this.checkHardState(update.hardState)
      if (update.entries && update.entries.length > 0) bytes += this.stageEntries(update.entries, ops)
    } catch (error) {
      return Promise.reject(error)
    }
    if (update.hardState) bytes += this.stageHardState(update.hardState, ops)
    if (ops.length === 0) return Promise.resolve()
    return this.queue.submit(ops, bytes)
  }

  /**
   * Starts writing a new snapshot. Chunks go to disk under a fresh generation; nothing changes for
   * readers until commit(), which swaps snapshot and log atomically.
   */
  beginSnapshot(): SnapshotWriter {
    const refusal = this.refusal()
    if (refusal) throw refusal
    return new SnapshotWriter(this, this.nextGeneration++, this.snapshotChunkBytes)
  }

  /**
   * Writes `data` as the snapshot through `point` and discards the log it covers. `data` may come
   * in pieces, produced while the writes of earlier pieces are under way.
   */
  async saveSnapshot(point: SnapshotPoint, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<SnapshotMeta> {
    const writer = this.beginSnapshot()
    try {
      for await (const piece of data instanceof Uint8Array ? [data] : data) await writer.write(piece)
      return await writer.commit(point)
    } catch (error) {
      await writer.abort()
      throw error
    }
  }

  // ---- reads from disk, after every write accepted before the read has reached it ----

  /**
   * The entry at `index`, checksum-verified. Throws CompactedError if the index is in the
   * snapshot, OutOfRangeError if it is past the last index, CorruptionError if its record is damaged.
   */
  async readEntry(index: number): Promise<LogEntry> {
    this.checkReadable(index)
    await this.queue.written()
    // Writes accepted meanwhile may have truncated or compacted the index away.
    this.checkReadable(index)
    const key = entryKey(index)
    const value = await this.db.get(key)
    if (value === undefined) throw new CorruptionError(this.name, `entry at index ${index}`, 'missing from the database')
    return decodeEntryValue(this.name, key, index, value)
  }

  /** Reads entries [from, to] (inclusive), each checksum-verified. */
  async readEntries(from: number, to: number = this.lastIndex): Promise<LogEntry[]> {
    const entries: LogEntry[] = []
    for await (const entry of this.iterateEntries(from, to)) entries.push(entry)
    return entries
  }

  /**
   * Streams entries [from, to] as they are stored, checksum-verified and checked for gaps. Reads
   * happen only as fast as the subscriber consumes; unsubscribing stops the read.
   */
  entries$(from: number = this.first, to: number = this.lastIndex): Observable<LogEntry> {
    return new Observable<LogEntry>((subscriber) => {
      let stopped = false
      const iterate = async (): Promise<void> => {
        for await (const entry of this.iterateEntries(from, to)) {
          if (stopped) return
          subscriber.next(entry)
        }
        subscriber.complete()
      }
      iterate().catch((error: unknown) => subscriber.error(error))
      return () => {
        stopped = true
      }
    })
  }

  /** The current snapshot's data, every chunk verified; empty if there is none. */
  async readSnapshot(): Promise<Uint8Array> {
    const meta = this.snapshot
    if (!meta) return new Uint8Array(0)
    const out = new Uint8Array(meta.sizeBytes)
    let offset = 0
    for await (const chunk of this.iterateSnapshotChunks(meta)) {
      out.set(chunk, offset)
      offset += chunk.length
    }
    if (crc32(out) !== meta.dataCrc) {
      throw new CorruptionError(this.name, `snapshot through index ${meta.lastIncludedIndex}`, 'data checksum mismatch')
    }
    return out
  }

  /** The current snapshot's data as a stream of verified chunks (for sending it in pieces). */
  snapshotChunks$(): Observable<Uint8Array> {
    return new Observable<Uint8Array>((subscriber) => {
      const meta = this.snapshot
      let stopped = false
      const iterate = async (): Promise<void> => {
        if (meta) {
          for await (const chunk of this.iterateSnapshotChunks(meta)) {
            if (stopped) return
            subscriber.next(chunk)
          }
        }
        subscriber.complete()
      }
      iterate().catch((error: unknown) => subscriber.error(error))
      return () => {
        stopped = true
      }
    })
  }

  /** The chunks of snapshot `meta` (which must be current when called), each verified. */
  snapshotChunks(meta: SnapshotMeta): AsyncIterable<Uint8Array> {
    return this.iterateSnapshotChunks(meta)
  }

  /**
   * Records (synced) the configuration a founding member starts the cluster with, so that a
   * restart takes its members from the store (and then the log), never from flags again.
   */
  async saveBootstrapConfiguration(configuration: Uint8Array): Promise<void> {
    this.bootstrap = configuration
    await this.db.put(bootstrapConfigurationKey, encodeBootstrapConfiguration(bootstrapConfigurationKey, configuration), this.writeOptions())
  }

  /** Forgets (synced) a peer's incarnation: it was removed, and may come back as a new one. */
  async forgetKnownPeer(peerId: string): Promise<void> {
    if (!this.peers.delete(peerId)) return
    await this.db.del(knownPeerKey(peerId), this.writeOptions())
  }

  /** Records (synced) the incarnation a peer showed when this node first met it. */
  async recordKnownPeer(peerId: string, incarnation: string): Promise<void> {
    this.peers.set(peerId, incarnation)
    await this.db.put(knownPeerKey(peerId), encodeKnownPeer(knownPeerKey(peerId), incarnation), this.writeOptions())
  }

  /**
   * Marks (synced) the directory as having lost state the cluster relies on: `reason` says how that
   * was found. A node refuses to start on a marked directory.
   */
  async markLostState(reason: string): Promise<void> {
    if (!this.stored) throw new Error(`log store "${this.name}" has no identity to mark`)
    this.stored = { ...this.stored, lostState: reason }
    await this.db.put(identityKey, encodeIdentity(identityKey, this.stored), this.writeOptions())
  }

  /**
   * Stops the store the way a crash would: writes queued behind the one in flight never reach the
   * database (they reject with LogStoreClosedError), and nothing more is accepted. The database
   * stays open so a simulated restart can reopen it with LogStore.open.
   */
  abandon(): void {
    if (this.closed) return
    this.closed = true
    this.queue.abandon(new LogStoreClosedError(this.name))
  }

  /** Waits for every accepted write to be durable, then closes the database. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue.idle()
    await Promise.all(this.pendingCleanups)
    await this.db.close()
  }

  // ---- internals shared with SnapshotWriter ----

  /** @internal */
  async writeSnapshotChunk(generation: number, chunkNumber: number, data: Uint8Array): Promise<void> {
    const refusal = this.refusal()
    if (refusal) throw refusal
    const key = snapshotChunkKey(generation, chunkNumber)
    // Not synced: the synced commit batch that follows makes the earlier writes durable with it.
    await this.db.put(key, seal(key, data))
  }

  /** @internal */
  async deleteSnapshotChunks(generation: number, chunkCount: number): Promise<void> {
    if (chunkCount === 0 || this.closed) return
    await this.db.clear({ gte: snapshotChunkKey(generation, 0), lt: snapshotChunkKey(generation, chunkCount) })
  }

  /**
   * @internal Installs a fully written snapshot. If the log holds the snapshot's last entry with
   * the same term, the entries after it are kept (§7); otherwise the whole log is discarded.
   */
  commitSnapshot(point: SnapshotPoint, generation: number, chunkCount: number, sizeBytes: number, dataCrc: number): Promise<SnapshotMeta> {
    const refusal = this.refusal()
    if (refusal) return Promise.reject(refusal)
    const currentIndex = this.snapshot?.lastIncludedIndex ?? 0
    if (point.lastIncludedIndex <= currentIndex) {
      return Promise.reject(new StaleSnapshotError(this.name, point.lastIncludedIndex, currentIndex))
    }
    const meta: SnapshotMeta = {
      lastIncludedIndex: point.lastIncludedIndex,
      lastIncludedTerm: point.lastIncludedTerm,
      appMeta: point.appMeta ?? new Uint8Array(0),
      configuration: point.configuration ?? new Uint8Array(0),
      sizeBytes,
      chunkCount,
      dataCrc,
      generation,
    }
    const ops: BatchOp[] = []
    const metaValue = encodeSnapshotMeta(snapshotMetaKey, meta)
    ops.push({ type: 'put', key: snapshotMetaKey, value: metaValue })
    const previous = this.snapshot
    const oldFirst = this.first
    const newFirst = point.lastIncludedIndex + 1
    const keepsSuffix = point.lastIncludedIndex <= this.lastIndex && this.termAt(point.lastIncludedIndex) === point.lastIncludedTerm
    if (keepsSuffix) {
      const dropped = point.lastIncludedIndex + 1 - this.first
      this.retainedEntryBytes -= sum(this.entryBytes, 0, dropped)
      this.entryTerms.splice(0, dropped)
      this.entryBytes.splice(0, dropped)
    } else {
      // Entries past the snapshot conflict with it: delete them in this batch. Those it covers are
      // already invisible once the new metadata is in place.
      for (let index = Math.max(this.first, point.lastIncludedIndex + 1); index <= this.lastIndex; index++) {
        ops.push({ type: 'del', key: entryKey(index) })
      }
      this.entryTerms = []
      this.entryBytes = []
      this.retainedEntryBytes = 0
    }
    this.first = newFirst
    this.snapshot = meta
    this.snapshotMetaBytes = snapshotMetaKey.length + metaValue.length
    const committed = this.queue.submit(ops, metaValue.length)
    this.track(
      committed.then(async () => {
        // Not this.first: a later snapshot may have moved it, and its batch may not be durable yet.
        await this.clearEntriesBelow(oldFirst, newFirst)
        if (previous) await this.deleteSnapshotChunks(previous.generation, previous.chunkCount)
      }),
    )
    return committed.then(() => meta)
  }

  // ---- private ----

  /**
   * Writes `ops` as one chained batch. abstract-level's array form clones, re-validates and
   * re-encodes every operation first: about four times the cost per entry of a chained put, and
   * the largest single cost of a busy node's append path.
   */
  private async writeBatch(ops: readonly BatchOp[]): Promise<void> {
    const batch = this.db.batch()
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value)
        else batch.del(op.key)
      }
    } catch (error) {
      await batch.close()
      throw error
    }
    await batch.write(this.writeOptions())
  }

  /** classic-level reads `sync`; the abstract types do not declare it. */
  private writeOptions(): AbstractBatchOptions<Uint8Array, Uint8Array> & AbstractPutOptions<Uint8Array, Uint8Array> & { sync: boolean } {
    return { sync: this.syncWrites }
  }

  private refusal(): Error | null {
    if (this.failure) return this.failure
    if (this.closed) return new LogStoreClosedError(this.name)
    return null
  }

  private stageEntries(entries: readonly LogEntry[], ops: BatchOp[]): number {
    const head = entries[0] as LogEntry
    if (head.index < this.first) {
      throw new NonContiguousAppendError(this.name, `append at ${head.index} would rewrite the snapshot, which covers up to ${this.first - 1}`)
    }
    if (head.index > this.lastIndex + 1) {
      throw new NonContiguousAppendError(this.name, `append at ${head.index} would leave a gap after the last index ${this.lastIndex}`)
    }
    // Plain loops rather than forEach: this runs for every appended entry.
    let previousTerm = this.termAt(head.index - 1)
    for (let offset = 0; offset < entries.length; offset++) {
      const entry = entries[offset] as LogEntry
      if (entry.index !== head.index + offset) {
        throw new NonContiguousAppendError(this.name, `entries are not contiguous: ${entry.index} follows ${head.index + offset - 1}`)
      }
      assert(entry.term >= previousTerm, () => `log terms must not decrease: ${entry.term} at ${entry.index} after ${previousTerm}`)
      previousTerm = entry.term
    }
    const newLast = head.index + entries.length - 1
    for (let index = newLast + 1; index <= this.lastIndex; index++) ops.push({ type: 'del', key: entryKey(index) })
    // Encoded before the view changes: the encoder refuses an index or term out of range.
    const valueBytes = encodeEntryPuts(entries, ops)
    const keep = head.index - this.first
    this.retainedEntryBytes -= sum(this.entryBytes, keep, this.entryBytes.length)
    this.entryTerms.length = keep
    this.entryBytes.length = keep
    for (let offset = 0; offset < entries.length; offset++) {
      const entry = entries[offset] as LogEntry
      const entryBytes = storedEntryBytes(entry)
      this.entryTerms.push(entry.term)
      this.entryBytes.push(entryBytes)
      this.retainedEntryBytes += entryBytes
    }
    return valueBytes
  }

  private checkHardState(state: HardState): void {
    assert(state.term >= this.hard.term, () => `term must not go backwards: ${state.term} after ${this.hard.term}`)
  }

  private stageHardState(state: HardState, ops: BatchOp[]): number {
    const value = encodeHardState(hardStateKey, state)
    ops.push({ type: 'put', key: hardStateKey, value })
    this.hard = state
    this.hardStateBytes = hardStateKey.length + value.length
    return value.length
  }

  private checkReadable(index: number): void {
    const refusal = this.refusal()
    if (refusal) throw refusal
    if (index < this.first) throw new CompactedError(this.name, index, this.first)
    if (index > this.lastIndex) throw new OutOfRangeError(this.name, index, this.lastIndex)
  }

  private async *iterateEntries(from: number, to: number): AsyncGenerator<LogEntry> {
    if (from > to) return
    this.checkReadable(from)
    this.checkReadable(to)
    await this.queue.written()
    // Writes accepted meanwhile may have truncated or compacted part of the range away.
    this.checkReadable(from)
    this.checkReadable(to)
    let expected = from
    for await (const [key, value] of this.db.iterator({ gte: entryKey(from), lte: entryKey(to) })) {
      const index = indexOfEntryKey(key)
      if (index !== expected) throw new CorruptionError(this.name, `entry at index ${expected}`, 'missing from the database')
      yield decodeEntryValue(this.name, key, index, value)
      expected++
    }
    if (expected <= to) throw new CorruptionError(this.name, `entry at index ${expected}`, 'missing from the database')
  }

  private async *iterateSnapshotChunks(meta: SnapshotMeta): AsyncGenerator<Uint8Array> {
    let expected = 0
    const range = { gte: snapshotChunkKey(meta.generation, 0), lt: snapshotChunkKey(meta.generation, meta.chunkCount) }
    for await (const [key, value] of this.db.iterator(range)) {
      const chunkNumber = new DataView(key.buffer, key.byteOffset).getUint32(9)
      if (chunkNumber !== expected) break
      yield unseal(this.name, key, value)
      expected++
    }
    if (expected !== meta.chunkCount) {
      throw new CorruptionError(this.name, `snapshot chunk ${expected} of generation ${meta.generation}`, 'missing from the database')
    }
  }

  private async recover(identity: IdentityClaim | undefined): Promise<void> {
    await this.checkIdentity(identity)
    const bootstrapValue = await this.db.get(bootstrapConfigurationKey)
    if (bootstrapValue !== undefined) this.bootstrap = decodeBootstrapConfiguration(this.name, bootstrapConfigurationKey, bootstrapValue)
    for await (const [key, value] of this.db.iterator(knownPeerKeyRange)) {
      this.peers.set(peerIdOfKnownPeerKey(key), decodeKnownPeer(this.name, key, value))
    }
    const hardValue = await this.db.get(hardStateKey)
    if (hardValue !== undefined) {
      this.hard = decodeHardState(this.name, hardStateKey, hardValue)
      this.hardStateBytes = hardStateKey.length + hardValue.length
    }
    const metaValue = await this.db.get(snapshotMetaKey)
    if (metaValue !== undefined) {
      this.snapshot = decodeSnapshotMeta(this.name, snapshotMetaKey, metaValue)
      this.snapshotMetaBytes = snapshotMetaKey.length + metaValue.length
      this.first = this.snapshot.lastIncludedIndex + 1
      this.nextGeneration = this.snapshot.generation + 1
    }
    await this.recoverEntries()
    await this.removeOrphanChunks()
  }

  private async checkIdentity(claim: IdentityClaim | undefined): Promise<void> {
    const stored = await this.db.get(identityKey)
    if (stored !== undefined) {
      const found = decodeIdentity(this.name, identityKey, stored)
      if (claim && (found.nodeId !== claim.nodeId || (claim.clusterId !== undefined && found.clusterId !== claim.clusterId))) {
        throw new IdentityMismatchError(
          this.name,
          `node ${claim.nodeId}${claim.clusterId === undefined ? '' : ` of cluster ${claim.clusterId}`}`,
          `node ${found.nodeId} of cluster ${found.clusterId}`,
        )
      }
      this.stored = found
    } else if (claim) {
      if (claim.clusterId === undefined) throw new ClusterIdRequiredError(this.name, newClusterId())
      const identity: StoredIdentity = { clusterId: claim.clusterId, nodeId: claim.nodeId, incarnation: randomBytes(8).toString('hex'), lostState: null }
      await this.db.put(identityKey, encodeIdentity(identityKey, identity), this.writeOptions())
      this.stored = identity
    }
  }

  private async recoverEntries(): Promise<void> {
    const stale: Uint8Array[] = []
    for await (const [key, value] of this.db.iterator(entryKeyRange)) {
      const index = indexOfEntryKey(key)
      if (index < this.first) {
        stale.push(key)
        continue
      }
      const expected = this.first + this.entryTerms.length
      if (index !== expected) {
        throw new CorruptionError(this.name, `entry at index ${expected}`, `missing: the next stored entry is ${index}`)
      }
      const entry = decodeEntryValue(this.name, key, index, value)
      const previousTerm = this.termAt(index - 1)
      if (entry.term < previousTerm) {
        throw new CorruptionError(this.name, `entry at index ${index}`, `term ${entry.term} is lower than the previous entry's ${previousTerm}`)
      }
      this.entryTerms.push(entry.term)
      this.entryBytes.push(key.length + value.length)
      this.retainedEntryBytes += key.length + value.length
    }
    // A crash after a snapshot commit but before its covered entries were cleared leaves them here.
    if (stale.length > 0) await this.db.batch(stale.map((key) => ({ type: 'del' as const, key })))
  }

  private async removeOrphanChunks(): Promise<void> {
    const orphans: Uint8Array[] = []
    for await (const key of this.db.keys(snapshotChunkKeyRange)) {
      if (generationOfChunkKey(key) !== this.snapshot?.generation) orphans.push(key)
    }
    if (orphans.length > 0) await this.db.batch(orphans.map((key) => ({ type: 'del' as const, key })))
  }

  private async clearEntriesBelow(from: number, to: number): Promise<void> {
    if (from >= to || this.closed) return
    await this.db.clear({ gte: entryKey(from), lt: entryKey(to) })
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch(() => {
      // The cleanup only frees space; a failure leaves garbage that the next open removes.
    })
    this.pendingCleanups.add(tracked)
    void tracked.then(() => this.pendingCleanups.delete(tracked))
  }
}

function sum(values: readonly number[], from: number, to: number): number {
  let total = 0
  for (let i = from; i < to; i++) total += values[i] as number
  return total
}

/** Writes one snapshot in chunks; see LogStore.beginSnapshot. */
export class SnapshotWriter {
  private chunkCount = 0
  private sizeBytes = 0
  private crc = 0
  /** Data written and not yet in a chunk: less than chunkBytes, in the pieces it came in. */
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private finished = false

  constructor(
    private readonly store: LogStore,
    private readonly generation: number,
    private readonly chunkBytes: number,
  ) {}

  /** Appends data; full chunks are written as they fill. */
  async write(data: Uint8Array): Promise<void> {
    assert(!this.finished, 'snapshot writer already committed or aborted')
    this.crc = crc32(data, this.crc)
    this.sizeBytes += data.length
    // Pieces smaller than a chunk are kept as they came (copied, since the caller may reuse its
    // buffer) and joined once a chunk is full, not copied again with every piece.
    if (this.pendingBytes + data.length < this.chunkBytes) {
      this.pending.push(data.slice())
      this.pendingBytes += data.length
      return
    }
    let buffered = this.pendingBytes > 0 ? Buffer.concat([...this.pending, data]) : data
    this.pending = []
    this.pendingBytes = 0
    while (buffered.length >= this.chunkBytes) {
      await this.store.writeSnapshotChunk(this.generation, this.chunkCount++, buffered.subarray(0, this.chunkBytes))
      buffered = buffered.subarray(this.chunkBytes)
    }
    if (buffered.length > 0) {
      this.pending = [buffered.slice()]
      this.pendingBytes = buffered.length
    }
  }

  /** Writes the last, partial chunk. */
  async flush(): Promise<void> {
    assert(!this.finished, 'snapshot writer already committed or aborted')
    if (this.pendingBytes === 0) return
    const last = Buffer.concat(this.pending)
    this.pending = []
    this.pendingBytes = 0
    await this.store.writeSnapshotChunk(this.generation, this.chunkCount++, last)
  }

  /**
   * Installs the snapshot atomically (see LogStore.commitSnapshot). After flush(), the store's view
   * changes synchronously, within this call; the promise says when the change is durable.
   */
  async commit(point: SnapshotPoint): Promise<SnapshotMeta> {
    assert(!this.finished, 'snapshot writer already committed or aborted')
    if (this.pendingBytes > 0) await this.flush()
    this.finished = true
    try {
      return await this.store.commitSnapshot(point, this.generation, this.chunkCount, this.sizeBytes, this.crc)
    } catch (error) {
      // A refused snapshot never became visible, so its chunks are garbage.
      if (error instanceof StaleSnapshotError) await this.store.deleteSnapshotChunks(this.generation, this.chunkCount)
      throw error
    }
  }

  /** Drops the chunks written so far. */
  async abort(): Promise<void> {
    if (this.finished) return
    this.finished = true
    await this.store.deleteSnapshotChunks(this.generation, this.chunkCount)
  }
}

/** A fresh random cluster id, as suggested to the founder of a new cluster. */
export function newClusterId(): string {
  return randomBytes(8).toString('hex')
}
