// The LogStore conformance suite, exported the way abstract-level exports its own: give it your
// test framework and a way to make locations for your abstract-level backend, and it checks that
// LogStore keeps every promise on that backend — order, truncation, compaction, durability across
// a reopen, identity — and that the backend really gives back the space LogStore frees.

import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { lastValueFrom, take, toArray } from 'rxjs'
import { type LevelDatabase, LogStore, type LogStoreOptions } from '../log/index.js'
import { entryKey, hardStateKey, snapshotChunkKey } from '../log/keys.js'
import type { ConformanceHost } from './conformance-host.js'
import { readDurableState } from './durable-state.js'
import { makeEntries, plain, snapshotPayload } from './log-entries.js'
import { rawRecords, withRawDatabase } from './raw-database.js'

/** Where one test's store lives: a directory, or one in-memory database kept across closes. */
export interface LogStoreLocation {
  /**
   * A handle on this location's database (LogStore.open opens it). A handle made after earlier
   * ones were closed sees everything they stored: that is how the suite restarts a store.
   */
  database(): LevelDatabase
  /** Deletes what the location holds. Called once per test, after its last store is closed. */
  remove(): void | Promise<void>
}

/** The backend under test. */
export interface LogStoreConformanceOptions {
  /** Names the backend in every test's name, e.g. "classic-level". */
  readonly name: string
  /** A new, empty location; every test gets its own. */
  createLocation(): LogStoreLocation | Promise<LogStoreLocation>
}

/** The stores one test opens on its location, so a failed check cannot leave one open. */
class Stores {
  private readonly opened: LogStore[] = []

  constructor(
    private readonly location: LogStoreLocation,
    private readonly storeName: string,
  ) {}

  async open(options: Partial<LogStoreOptions> = {}): Promise<LogStore> {
    const store = await LogStore.open(this.location.database(), { name: this.storeName, ...options })
    this.opened.push(store)
    return store
  }

  /** Closes `store` and opens the location again: what a restart sees. */
  async reopen(store: LogStore, options: Partial<LogStoreOptions> = {}): Promise<LogStore> {
    await store.close()
    return this.open(options)
  }

  /** Every record of the kind `keyPrefix` starts, read straight from the database (no store may have it open). */
  async rawRecords(keyPrefix: Uint8Array): Promise<Array<[Uint8Array, Uint8Array]>> {
    const records = await withRawDatabase(this.location.database(), rawRecords)
    return records.filter(([key]) => key[0] === keyPrefix[0])
  }

  async closeAll(): Promise<void> {
    for (const store of this.opened) await store.close()
  }
}

const ENTRY_PREFIX = entryKey(0)
const CHUNK_PREFIX = snapshotChunkKey(0, 0)

/**
 * Declares, on `host`, the tests every LogStore backend must pass, each named "<name>: <behaviour>".
 * A backend is any abstract-level database with binary keys and values: see LogStoreLocation.
 */
export function logStoreConformance(host: ConformanceHost, options: LogStoreConformanceOptions): void {
  const scenario = (behaviour: string, body: (stores: Stores) => Promise<void>): void => {
    void host.test(`${options.name}: ${behaviour}`, async () => {
      const location = await options.createLocation()
      const stores = new Stores(location, `${options.name} conformance`)
      try {
        await body(stores)
      } finally {
        await stores.closeAll()
        await location.remove()
      }
    })
  }

  scenario('an empty store holds no entries, no hard state and no snapshot', async (stores) => {
    const store = await stores.open()
    assert.equal(store.firstIndex, 1)
    assert.equal(store.lastIndex, 0)
    assert.equal(store.lastTerm, 0)
    assert.deepEqual(store.hardState, { term: 0, votedFor: null, commitIndex: 0 })
    assert.deepEqual(await store.readEntries(1), [])
    await assert.rejects(store.readEntry(1), { code: 'ERR_LOG_OUT_OF_RANGE' })
    assert.equal(store.snapshotMeta, null)
    assert.deepEqual(await store.readSnapshot(), new Uint8Array(0))
    assert.deepEqual(await lastValueFrom(store.snapshotChunks$().pipe(toArray())), [])
    assert.deepEqual(store.sizes(), { raftStateBytes: 0, snapshotBytes: 0 })
    assert.equal(store.identity, null, 'a store opened without an identity records none')
    assert.equal(store.bootstrapConfiguration, null)
    assert.equal(store.knownPeers.size, 0)
  })

  scenario('appended entries read back by index, by range and as a stream', async (stores) => {
    const store = await stores.open()
    const entries = makeEntries(1, 10, 1)
    await store.append(entries)
    assert.equal(store.firstIndex, 1)
    assert.equal(store.lastIndex, 10)
    assert.equal(store.lastTerm, 1)
    assert.deepEqual(plain([await store.readEntry(4)]), entries.slice(3, 4))
    assert.deepEqual(plain(await store.readEntries(3, 6)), entries.slice(2, 6))
    assert.deepEqual(plain(await store.readEntries(1)), entries)
    assert.deepEqual(plain(await lastValueFrom(store.entries$().pipe(toArray()))), entries)
    assert.deepEqual(plain(await lastValueFrom(store.entries$(8).pipe(toArray()))), entries.slice(7))
    await assert.rejects(store.readEntry(11), { code: 'ERR_LOG_OUT_OF_RANGE' })
    await assert.rejects(store.readEntries(9, 11), { code: 'ERR_LOG_OUT_OF_RANGE', message: /index 11 is past the last index 10/ })
    await assert.rejects(lastValueFrom(store.entries$(9, 11)), { code: 'ERR_LOG_OUT_OF_RANGE' })
    assert.throws(() => store.termAt(11), { code: 'ERR_LOG_OUT_OF_RANGE' })
    assert.equal(store.termAt(0), 0, 'index 0 is before every log and has term 0')
  })

  scenario('a reader that unsubscribes midway gets nothing more and the store still closes', async (stores) => {
    const store = await stores.open()
    await store.append(makeEntries(1, 50, 1))
    assert.deepEqual(
      (await lastValueFrom(store.entries$(1).pipe(take(3), toArray()))).map((entry) => entry.index),
      [1, 2, 3],
    )
    const received: number[] = []
    let finished = false
    const subscription = store.entries$(1).subscribe({
      next: (entry) => {
        received.push(entry.index)
        if (received.length === 5) subscription.unsubscribe()
      },
      complete: () => (finished = true),
      error: () => (finished = true),
    })
    // Long enough for a reader that ignored the unsubscribe to deliver the other 45 entries.
    await sleep(50)
    assert.deepEqual(received, [1, 2, 3, 4, 5])
    assert.equal(finished, false, 'an unsubscribed stream neither completes nor errors')
    await store.close()
  })

  scenario('reads see every write accepted before them, even one still in flight', async (stores) => {
    const store = await stores.open()
    await store.append(makeEntries(1, 3, 1))
    const writes = [store.append(makeEntries(4, 2, 1)), store.append(makeEntries(6, 2, 1))]
    assert.deepEqual(plain([await store.readEntry(7)]), makeEntries(7, 1, 1))
    writes.push(store.append(makeEntries(2, 1, 2, 9)))
    assert.deepEqual(plain(await store.readEntries(1)), [...makeEntries(1, 1, 1), ...makeEntries(2, 1, 2, 9)])
    await Promise.all(writes)
  })

  scenario('hard state survives a reopen', async (stores) => {
    let store = await stores.open()
    assert.deepEqual(store.hardState, { term: 0, votedFor: null, commitIndex: 0 })
    await store.saveHardState({ term: 3, votedFor: 'node-2', commitIndex: 0 })
    await store.saveHardState({ term: 4, votedFor: null, commitIndex: 7 })
    store = await stores.reopen(store)
    assert.deepEqual(store.hardState, { term: 4, votedFor: null, commitIndex: 7 })
    await store.saveHardState({ term: 4, votedFor: 'node-3', commitIndex: 9 })
    store = await stores.reopen(store)
    assert.deepEqual(store.hardState, { term: 4, votedFor: 'node-3', commitIndex: 9 })
  })

  scenario('an append inside the log replaces the conflicting suffix in one batch', async (stores) => {
    let store = await stores.open()
    await store.append(makeEntries(1, 10, 1))
    const batchesBefore = store.groupCommitStats.batches
    const replacement = makeEntries(6, 2, 2, 5)
    await store.append(replacement)
    assert.equal(store.groupCommitStats.batches, batchesBefore + 1, 'truncation and append are one batch')
    assert.equal(store.lastIndex, 7)
    assert.equal(store.lastTerm, 2)
    store = await stores.reopen(store)
    assert.equal(store.lastIndex, 7)
    assert.deepEqual(plain(await store.readEntries(1)), [...makeEntries(1, 5, 1), ...replacement])
    await store.close()
    assert.equal((await stores.rawRecords(ENTRY_PREFIX)).length, 7, 'no entry past the new last index is left in the database')
  })

  scenario('an append that would leave a gap or rewrite the snapshot is refused and changes nothing', async (stores) => {
    const store = await stores.open()
    await store.append(makeEntries(1, 5, 1))
    await assert.rejects(store.append(makeEntries(7, 1, 1)), { code: 'ERR_LOG_NON_CONTIGUOUS', message: /gap after the last index 5/ })
    const jumbled = [...makeEntries(6, 1, 1), ...makeEntries(8, 1, 1)]
    await assert.rejects(store.append(jumbled), { code: 'ERR_LOG_NON_CONTIGUOUS', message: /not contiguous/ })
    await store.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 1 }, new Uint8Array(0))
    await assert.rejects(store.append(makeEntries(3, 1, 1)), { code: 'ERR_LOG_NON_CONTIGUOUS', message: /snapshot, which covers up to 3/ })
    assert.equal(store.firstIndex, 4)
    assert.equal(store.lastIndex, 5)
    assert.deepEqual(plain(await store.readEntries(4)), makeEntries(4, 2, 1))
  })

  scenario('a write with a hard state going backwards is refused whole', async (stores) => {
    const store = await stores.open()
    await store.write({ hardState: { term: 5, votedFor: null, commitIndex: 0 }, entries: makeEntries(1, 2, 5) })
    await assert.rejects(store.write({ hardState: { term: 4, votedFor: null, commitIndex: 0 }, entries: makeEntries(3, 1, 5) }), {
      code: 'ERR_INVARIANT',
    })
    assert.equal(store.lastIndex, 2, 'the refused entries are not in the log')
    assert.deepEqual(plain(await store.readEntries(1)), makeEntries(1, 2, 5))
  })

  scenario('an entry whose term is past 2^53 is refused, not stored unreadable, and changes nothing', async (stores) => {
    const store = await stores.open()
    await store.append(makeEntries(1, 5, 1))
    await assert.rejects(store.append(makeEntries(3, 1, 2 ** 53)), { code: 'ERR_INVARIANT', message: /uint64 out of range/ })
    assert.equal(store.lastIndex, 5, 'the entries past the refused one are still in the view')
    assert.deepEqual(plain(await store.readEntries(1)), makeEntries(1, 5, 1))
  })

  scenario('a snapshot at an entry the log holds with the same term keeps the suffix', async (stores) => {
    let store = await stores.open()
    await store.append(makeEntries(1, 10, 1))
    const meta = await store.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1 }, Uint8Array.of(1, 2, 3))
    assert.equal(meta.lastIncludedIndex, 5)
    assert.equal(meta.lastIncludedTerm, 1)
    assert.equal(meta.sizeBytes, 3)
    assert.equal(store.firstIndex, 6)
    assert.equal(store.lastIndex, 10)
    assert.equal(store.termAt(5), 1, "the snapshot's last index keeps its term")
    assert.throws(() => store.termAt(4), { code: 'ERR_LOG_COMPACTED' })
    await assert.rejects(store.readEntry(5), { code: 'ERR_LOG_COMPACTED', message: /index 5 is compacted/ })
    await assert.rejects(store.readEntries(2, 8), { code: 'ERR_LOG_COMPACTED', message: /index 2 is compacted/ })
    store = await stores.reopen(store)
    assert.equal(store.firstIndex, 6)
    assert.equal(store.termAt(5), 1)
    assert.deepEqual(plain(await store.readEntries(6)), makeEntries(6, 5, 1))
    assertSameRecord(store.snapshotMeta, meta)
    assert.deepEqual(await store.readSnapshot(), Uint8Array.of(1, 2, 3))
    await store.close()
    const entryIndexes = (await stores.rawRecords(ENTRY_PREFIX)).map(([key]) => key[8])
    assert.deepEqual(entryIndexes, [6, 7, 8, 9, 10], 'compacted entries are deleted from the database')
  })

  scenario('a snapshot that conflicts with the log or passes its end discards the whole log', async (stores) => {
    let store = await stores.open()
    await store.append(makeEntries(1, 10, 1))
    await store.saveSnapshot({ lastIncludedIndex: 7, lastIncludedTerm: 2 }, Uint8Array.of(7))
    assert.equal(store.firstIndex, 8)
    assert.equal(store.lastIndex, 7)
    assert.equal(store.lastTerm, 2)
    store = await stores.reopen(store)
    assert.equal(store.lastIndex, 7)
    assert.deepEqual(plain(await store.readEntries(8)), [])
    await store.append(makeEntries(8, 3, 2))
    await store.saveSnapshot({ lastIncludedIndex: 20, lastIncludedTerm: 3 }, Uint8Array.of(20))
    store = await stores.reopen(store)
    assert.equal(store.firstIndex, 21)
    assert.equal(store.lastIndex, 20)
    assert.equal(store.lastTerm, 3)
    await store.append(makeEntries(21, 1, 3))
    assert.deepEqual(plain(await store.readEntries(21)), makeEntries(21, 1, 3))
  })

  scenario('a snapshot no newer than the installed one is refused and leaves no data behind', async (stores) => {
    let store = await stores.open()
    await store.append(makeEntries(1, 10, 1))
    const meta = await store.saveSnapshot({ lastIncludedIndex: 6, lastIncludedTerm: 1 }, snapshotPayload(6, 0, 40))
    const sizes = store.sizes()
    await assert.rejects(store.saveSnapshot({ lastIncludedIndex: 6, lastIncludedTerm: 1 }, snapshotPayload(6, 1, 40)), {
      code: 'ERR_LOG_STALE_SNAPSHOT',
    })
    await assert.rejects(store.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 1 }, snapshotPayload(4, 1, 40)), {
      code: 'ERR_LOG_STALE_SNAPSHOT',
      message: /through index 4 is not newer than the installed one through 6/,
    })
    assertSameRecord(store.snapshotMeta, meta)
    assert.deepEqual(store.sizes(), sizes)
    assert.deepEqual(await store.readSnapshot(), snapshotPayload(6, 0, 40))
    await store.close()
    assert.equal((await stores.rawRecords(CHUNK_PREFIX)).length, 1, 'only the installed snapshot has chunks')
    store = await stores.open()
    assertSameRecord(store.snapshotMeta, meta)
  })

  scenario('snapshot data is stored in chunks and read back whole or chunk by chunk', async (stores) => {
    let store = await stores.open({ snapshotChunkBytes: 16 })
    await store.append(makeEntries(1, 4, 1))
    const data = snapshotPayload(4, 0, 100)
    const meta = await store.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 1, appMeta: Uint8Array.of(9) }, data)
    assert.equal(meta.chunkCount, 7)
    assert.deepEqual(meta.appMeta, Uint8Array.of(9))
    assert.deepEqual(await store.readSnapshot(), data)
    const chunks = await lastValueFrom(store.snapshotChunks$().pipe(toArray()))
    assert.deepEqual(
      chunks.map((chunk) => chunk.length),
      [16, 16, 16, 16, 16, 16, 4],
    )
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(data))
    store = await stores.reopen(store, { snapshotChunkBytes: 16 })
    assert.deepEqual(await store.readSnapshot(), data)
    const writer = store.beginSnapshot()
    const streamed = snapshotPayload(6, 1, 50)
    await writer.write(streamed.subarray(0, 10))
    await writer.write(streamed.subarray(10))
    await store.append(makeEntries(5, 2, 1))
    await writer.commit({ lastIncludedIndex: 6, lastIncludedTerm: 1 })
    assert.deepEqual(await store.readSnapshot(), streamed)
    await store.close()
    assert.equal((await stores.rawRecords(CHUNK_PREFIX)).length, 4, "the replaced snapshot's chunks are deleted")
  })

  scenario('sizes count what is stored: the log grows with appends and shrinks after a snapshot', async (stores) => {
    let store = await stores.open()
    await store.saveHardState({ term: 1, votedFor: 'a', commitIndex: 0 })
    const withHardState = store.sizes().raftStateBytes
    assert.ok(withHardState > 0)
    await store.append(makeEntries(1, 20, 1))
    const withEntries = store.sizes()
    assert.ok(withEntries.raftStateBytes > withHardState + 20 * 8, 'every entry adds at least its payload')
    assert.equal(withEntries.snapshotBytes, 0)
    await store.close()
    const storedBytes = [...(await stores.rawRecords(ENTRY_PREFIX)), ...(await stores.rawRecords(hardStateKey))].reduce(
      (total, [key, value]) => total + key.length + value.length,
      0,
    )
    assert.equal(withEntries.raftStateBytes, storedBytes, 'raftStateBytes is the bytes of hard state and entries')
    store = await stores.open()
    assert.deepEqual(store.sizes(), withEntries)
    await store.saveSnapshot({ lastIncludedIndex: 15, lastIncludedTerm: 1 }, snapshotPayload(15, 0, 1000))
    const compacted = store.sizes()
    assert.ok(compacted.raftStateBytes < withEntries.raftStateBytes / 2, `raftStateBytes ${compacted.raftStateBytes} after compaction`)
    assert.ok(compacted.snapshotBytes >= 1000 && compacted.snapshotBytes < 1100, `snapshotBytes ${compacted.snapshotBytes}`)
    store = await stores.reopen(store)
    assert.deepEqual(store.sizes(), compacted)
  })

  scenario('a reopen after close restores log, hard state and snapshot', async (stores) => {
    let store = await stores.open({ snapshotChunkBytes: 32 })
    await store.append(makeEntries(1, 30, 1))
    await store.append(makeEntries(31, 10, 2))
    await store.saveSnapshot({ lastIncludedIndex: 12, lastIncludedTerm: 1, appMeta: Uint8Array.of(4, 2) }, snapshotPayload(12, 0, 200))
    await store.write({ hardState: { term: 2, votedFor: 'b', commitIndex: 35 }, entries: makeEntries(41, 5, 2) })
    const before = await everythingIn(store)
    store = await stores.reopen(store, { snapshotChunkBytes: 32 })
    assertSameRecord(await everythingIn(store), before)
    assert.equal(before.firstIndex, 13)
    assert.equal(before.lastIndex, 45)
    assert.deepEqual(before.snapshotData, snapshotPayload(12, 0, 200))
  })

  scenario("a store refuses to open another node's data and stays usable by its owner", async (stores) => {
    const owner = { clusterId: 'c1', nodeId: 'n1' }
    let store = await stores.open({ identity: owner })
    await store.append(makeEntries(1, 2, 1))
    await store.close()
    await assert.rejects(stores.open({ identity: { clusterId: 'c1', nodeId: 'n2' } }), {
      code: 'ERR_LOG_IDENTITY',
      message: /belongs to node n1 of cluster c1, not node n2 of cluster c1/,
    })
    await assert.rejects(stores.open({ identity: { clusterId: 'c2', nodeId: 'n1' } }), { code: 'ERR_LOG_IDENTITY' })
    store = await stores.open({ identity: owner })
    assert.equal(store.lastIndex, 2)
    store = await stores.reopen(store)
    assert.equal(store.lastIndex, 2, 'opening without an identity does not check it')
  })

  scenario('a new store needs a cluster id, records a random incarnation, and keeps both across reopens', async (stores) => {
    await assert.rejects(stores.open({ identity: { nodeId: 'n1' } }), { code: 'ERR_LOG_CLUSTER_ID', message: /--cluster-id [0-9a-f]{16}/ })
    let store = await stores.open({ identity: { clusterId: 'c1', nodeId: 'n1' } })
    const first = store.identity
    assert.ok(first, 'the new store records an identity')
    assert.equal(first.clusterId, 'c1')
    assert.equal(first.nodeId, 'n1')
    assert.match(first.incarnation, /^[0-9a-f]{16}$/)
    assert.equal(first.lostState, null)
    store = await stores.reopen(store, { identity: { nodeId: 'n1' } })
    assert.deepEqual(store.identity, first, 'an existing directory tells its cluster id; the incarnation is the same')
  })

  scenario('known peers, the bootstrap configuration and a lost-state mark are durable', async (stores) => {
    let store = await stores.open({ identity: { clusterId: 'c1', nodeId: 'n1' } })
    await store.recordKnownPeer('n2', 'aaaa')
    await store.recordKnownPeer('n3', 'bbbb')
    await store.recordKnownPeer('n2', 'cccc')
    await store.recordKnownPeer('n4', 'dddd')
    await store.forgetKnownPeer('n4')
    await store.saveBootstrapConfiguration(Uint8Array.of(1, 2, 3, 4))
    await store.markLostState('leader n2 found the log at 3, acknowledged 9')
    store = await stores.reopen(store, { identity: { nodeId: 'n1' } })
    assert.deepEqual([...store.knownPeers.entries()].sort(), [
      ['n2', 'cccc'],
      ['n3', 'bbbb'],
    ])
    assertSameRecord(store.bootstrapConfiguration, Uint8Array.of(1, 2, 3, 4))
    assert.equal(store.identity?.lostState, 'leader n2 found the log at 3, acknowledged 9')
  })

  scenario('concurrent writes are group-committed, resolve in order and land in order', async (stores) => {
    let store = await stores.open()
    const resolved: number[] = []
    const writes: Promise<void>[] = []
    for (let index = 1; index <= 200; index++) {
      writes.push(store.append(makeEntries(index, 1, 1 + Math.floor(index / 50))).then(() => void resolved.push(index)))
      if (index % 10 === 0) {
        writes.push(store.saveHardState({ term: 1 + Math.floor(index / 50), votedFor: null, commitIndex: index }))
      }
    }
    await Promise.all(writes)
    assert.deepEqual(
      resolved,
      Array.from({ length: 200 }, (_, i) => i + 1),
      'appends resolve in issue order',
    )
    assert.equal(store.groupCommitStats.writes, 220)
    assert.ok(store.groupCommitStats.batches <= 10, `${store.groupCommitStats.batches} batches for 220 writes`)
    store = await stores.reopen(store)
    assert.deepEqual(store.hardState, { term: 5, votedFor: null, commitIndex: 200 })
    const entries = await store.readEntries(1)
    assert.deepEqual(
      entries.map((entry) => entry.term),
      Array.from({ length: 200 }, (_, i) => 1 + Math.floor((i + 1) / 50)),
    )
  })

  scenario('writes after close are refused', async (stores) => {
    const store = await stores.open()
    await store.close()
    await assert.rejects(store.append(makeEntries(1, 1, 1)), { code: 'ERR_LOG_CLOSED' })
    await assert.rejects(store.readEntry(1), { code: 'ERR_LOG_CLOSED' })
  })
}

/** Everything a store holds and reports, read back in full. */
async function everythingIn(store: LogStore) {
  return { ...(await readDurableState(store)), lastTerm: store.lastTerm, sizes: store.sizes() }
}

/**
 * Deep equality that takes a Buffer for the bytes it holds: records decoded from the database
 * carry Buffers where the ones just written carry Uint8Arrays.
 */
function assertSameRecord(actual: unknown, expected: unknown, message?: string): void {
  assert.deepEqual(withPlainBytes(actual), withPlainBytes(expected), message)
}

function withPlainBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value)
  if (Array.isArray(value)) return value.map(withPlainBytes)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, withPlainBytes(field)]))
  return value
}
