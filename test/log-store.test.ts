// One conformance suite for LogStore, run against memory-level and against classic-level on disk:
// both backends must keep the same promises about order, durability, compaction and corruption.

import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { lastValueFrom, take, toArray } from 'rxjs'
import {
  LogStore,
  diskDatabase,
  memoryDatabase,
  openDiskLog,
  openMemoryLog,
  type LevelDatabase,
  type LogEntry,
  type LogStoreOptions,
} from '../src/log/index.js'
import { entryKey, hardStateKey, snapshotChunkKey, snapshotMetaKey } from '../src/log/keys.js'
import { makeEntries, makeTempDir, plain, rawRecords, snapshotPayload, withBatchFaults, withRawDatabase } from './helpers/log.js'
import { readDurableState } from './helpers/log-model.js'

/** Where one test's store lives; every open after the first sees what the previous one left. */
interface LogLocation {
  readonly storeName: string
  open(options?: Partial<LogStoreOptions>): Promise<LogStore>
  /** A handle on the same database for raw reads and writes (open it only while no store is). */
  database(): LevelDatabase
  remove(): void
}

interface Backend {
  readonly name: string
  createLocation(): LogLocation
}

const memoryBackend: Backend = {
  name: 'memory-level',
  createLocation() {
    const db = memoryDatabase()
    return {
      storeName: 'memory',
      open: (options = {}) => openMemoryLog(db, options),
      database: () => db,
      remove: () => {}, // Nothing on disk: the database goes with this object.
    }
  },
}

const diskBackend: Backend = {
  name: 'classic-level',
  createLocation() {
    const dir = makeTempDir('log-store')
    return {
      storeName: dir.path,
      open: (options = {}) => openDiskLog(dir.path, options),
      database: () => diskDatabase(dir.path),
      remove: dir.remove,
    }
  },
}

function conformance(t: Test, backend: Backend): void {
  /** Declares a test that gets a fresh location, removed afterwards. */
  const scenario = (behaviour: string, body: (t: Test, location: LogLocation) => Promise<void>): void => {
    void t.test(`${backend.name}: ${behaviour}`, async (t) => {
      const location = backend.createLocation()
      t.teardown(location.remove)
      await body(t, location)
    })
  }

  /** Closes `store` and opens the location again: what a restart sees. */
  const reopen = async (store: LogStore, location: LogLocation, options?: Partial<LogStoreOptions>): Promise<LogStore> => {
    await store.close()
    return location.open(options)
  }

  scenario('appended entries read back by index, by range and as a stream', async (t, location) => {
    const store = await location.open()
    const entries = makeEntries(1, 10, 1)
    await store.append(entries)
    t.equal(store.firstIndex, 1)
    t.equal(store.lastIndex, 10)
    t.equal(store.lastTerm, 1)
    t.same(plain([await store.readEntry(4)]), entries.slice(3, 4))
    t.same(plain(await store.readEntries(3, 6)), entries.slice(2, 6))
    t.same(plain(await store.readEntries(1)), entries)
    t.same(plain(await lastValueFrom(store.entries$().pipe(toArray()))), entries)
    t.same(plain(await lastValueFrom(store.entries$(8).pipe(toArray()))), entries.slice(7))
    await t.rejects(store.readEntry(11), { code: 'ERR_LOG_OUT_OF_RANGE' })
    await store.close()
  })

  scenario('a reader that unsubscribes midway gets nothing more and the store still closes', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 50, 1))
    t.same(
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
    await sleep(50)
    t.same(received, [1, 2, 3, 4, 5])
    t.notOk(finished, 'an unsubscribed stream neither completes nor errors')
    await store.close()
  })

  scenario('reads see every write accepted before them, even one still in flight', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 3, 1))
    const writes = [store.append(makeEntries(4, 2, 1)), store.append(makeEntries(6, 2, 1))]
    t.same(plain([await store.readEntry(7)]), makeEntries(7, 1, 1))
    writes.push(store.append(makeEntries(2, 1, 2, 9)))
    t.same(plain(await store.readEntries(1)), [...makeEntries(1, 1, 1), ...makeEntries(2, 1, 2, 9)])
    await Promise.all(writes)
    await store.close()
  })

  scenario('hard state survives a reopen', async (t, location) => {
    let store = await location.open()
    t.same(store.hardState, { term: 0, votedFor: null, commitIndex: 0 })
    await store.saveHardState({ term: 3, votedFor: 'node-2', commitIndex: 0 })
    await store.saveHardState({ term: 4, votedFor: null, commitIndex: 7 })
    store = await reopen(store, location)
    t.same(store.hardState, { term: 4, votedFor: null, commitIndex: 7 })
    await store.saveHardState({ term: 4, votedFor: 'node-3', commitIndex: 9 })
    store = await reopen(store, location)
    t.same(store.hardState, { term: 4, votedFor: 'node-3', commitIndex: 9 })
    await store.close()
  })

  scenario('an append inside the log replaces the conflicting suffix in one batch', async (t, location) => {
    let store = await location.open()
    await store.append(makeEntries(1, 10, 1))
    const batchesBefore = store.groupCommitStats.batches
    const replacement = makeEntries(6, 2, 2, 5)
    await store.append(replacement)
    t.equal(store.groupCommitStats.batches, batchesBefore + 1, 'truncation and append are one batch')
    t.equal(store.lastIndex, 7)
    t.equal(store.lastTerm, 2)
    store = await reopen(store, location)
    t.equal(store.lastIndex, 7)
    t.same(plain(await store.readEntries(1)), [...makeEntries(1, 5, 1), ...replacement])
    await store.close()
    const entryKeys = await withRawDatabase(location.database(), async (db) => (await rawRecords(db)).filter(([key]) => key[0] === entryKey(0)[0]))
    t.equal(entryKeys.length, 7, 'no entry past the new last index is left in the database')
  })

  scenario('an append that would leave a gap or rewrite the snapshot is refused and changes nothing', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 5, 1))
    await t.rejects(store.append(makeEntries(7, 1, 1)), { code: 'ERR_LOG_NON_CONTIGUOUS', message: /gap after the last index 5/ })
    const jumbled: LogEntry[] = [...makeEntries(6, 1, 1), ...makeEntries(8, 1, 1)]
    await t.rejects(store.append(jumbled), { code: 'ERR_LOG_NON_CONTIGUOUS', message: /not contiguous/ })
    await store.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 1 }, new Uint8Array(0))
    await t.rejects(store.append(makeEntries(3, 1, 1)), { code: 'ERR_LOG_NON_CONTIGUOUS', message: /snapshot, which covers up to 3/ })
    t.equal(store.firstIndex, 4)
    t.equal(store.lastIndex, 5)
    t.same(plain(await store.readEntries(4)), makeEntries(4, 2, 1))
    await store.close()
  })

  scenario('a write with a hard state going backwards is refused whole', async (t, location) => {
    const store = await location.open()
    await store.write({ hardState: { term: 5, votedFor: null, commitIndex: 0 }, entries: makeEntries(1, 2, 5) })
    await t.rejects(store.write({ hardState: { term: 4, votedFor: null, commitIndex: 0 }, entries: makeEntries(3, 1, 5) }), {
      code: 'ERR_INVARIANT',
    })
    t.equal(store.lastIndex, 2, 'the refused entries are not in the log')
    t.same(plain(await store.readEntries(1)), makeEntries(1, 2, 5))
    await store.close()
  })

  scenario('an entry whose term is past 2^53 is refused, not stored unreadable, and changes nothing', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 5, 1))
    await t.rejects(store.append(makeEntries(3, 1, 2 ** 53)), { code: 'ERR_INVARIANT', message: /uint64 out of range/ })
    t.equal(store.lastIndex, 5, 'the entries past the refused one are still in the view')
    t.same(plain(await store.readEntries(1)), makeEntries(1, 5, 1))
    await store.close()
  })

  scenario('a snapshot at an entry the log holds with the same term keeps the suffix', async (t, location) => {
    let store = await location.open()
    await store.append(makeEntries(1, 10, 1))
    const meta = await store.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 1 }, Uint8Array.of(1, 2, 3))
    t.match(meta, { lastIncludedIndex: 5, lastIncludedTerm: 1, sizeBytes: 3 })
    t.equal(store.firstIndex, 6)
    t.equal(store.lastIndex, 10)
    t.equal(store.termAt(5), 1)
    await t.rejects(store.readEntry(5), { code: 'ERR_LOG_COMPACTED', message: /index 5 is compacted/ })
    await t.rejects(store.readEntries(2, 8), { code: 'ERR_LOG_COMPACTED', message: /index 2 is compacted/ })
    store = await reopen(store, location)
    t.equal(store.firstIndex, 6)
    t.same(plain(await store.readEntries(6)), makeEntries(6, 5, 1))
    t.same(store.snapshotMeta, meta)
    t.same(await store.readSnapshot(), Uint8Array.of(1, 2, 3))
    await store.close()
    const entryIndexes = await withRawDatabase(location.database(), async (db) =>
      (await rawRecords(db)).filter(([key]) => key[0] === entryKey(0)[0]).map(([key]) => key[8]),
    )
    t.same(entryIndexes, [6, 7, 8, 9, 10], 'compacted entries are deleted from the database')
  })

  scenario('a snapshot that conflicts with the log or passes its end discards the whole log', async (t, location) => {
    let store = await location.open()
    await store.append(makeEntries(1, 10, 1))
    await store.saveSnapshot({ lastIncludedIndex: 7, lastIncludedTerm: 2 }, Uint8Array.of(7))
    t.equal(store.firstIndex, 8)
    t.equal(store.lastIndex, 7)
    t.equal(store.lastTerm, 2)
    store = await reopen(store, location)
    t.equal(store.lastIndex, 7)
    t.same(plain(await store.readEntries(8)), [])
    await store.append(makeEntries(8, 3, 2))
    await store.saveSnapshot({ lastIncludedIndex: 20, lastIncludedTerm: 3 }, Uint8Array.of(20))
    store = await reopen(store, location)
    t.equal(store.firstIndex, 21)
    t.equal(store.lastIndex, 20)
    t.equal(store.lastTerm, 3)
    await store.append(makeEntries(21, 1, 3))
    t.same(plain(await store.readEntries(21)), makeEntries(21, 1, 3))
    await store.close()
  })

  scenario('a snapshot no newer than the installed one is refused and leaves no data behind', async (t, location) => {
    let store = await location.open()
    await store.append(makeEntries(1, 10, 1))
    const meta = await store.saveSnapshot({ lastIncludedIndex: 6, lastIncludedTerm: 1 }, snapshotPayload(6, 0, 40))
    const sizes = store.sizes()
    await t.rejects(store.saveSnapshot({ lastIncludedIndex: 6, lastIncludedTerm: 1 }, snapshotPayload(6, 1, 40)), {
      code: 'ERR_LOG_STALE_SNAPSHOT',
    })
    await t.rejects(store.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 1 }, snapshotPayload(4, 1, 40)), {
      code: 'ERR_LOG_STALE_SNAPSHOT',
      message: /through index 4 is not newer than the installed one through 6/,
    })
    t.same(store.snapshotMeta, meta)
    t.same(store.sizes(), sizes)
    t.same(await store.readSnapshot(), snapshotPayload(6, 0, 40))
    await store.close()
    const chunkCount = await withRawDatabase(
      location.database(),
      async (db) => (await rawRecords(db)).filter(([key]) => key[0] === snapshotChunkKey(0, 0)[0]).length,
    )
    t.equal(chunkCount, 1, 'only the installed snapshot has chunks')
    store = await location.open()
    t.same(store.snapshotMeta, meta)
    await store.close()
  })

  scenario('snapshot data is stored in chunks and read back whole or chunk by chunk', async (t, location) => {
    let store = await location.open({ snapshotChunkBytes: 16 })
    await store.append(makeEntries(1, 4, 1))
    const data = snapshotPayload(4, 0, 100)
    const meta = await store.saveSnapshot({ lastIncludedIndex: 4, lastIncludedTerm: 1, appMeta: Uint8Array.of(9) }, data)
    t.equal(meta.chunkCount, 7)
    t.same(meta.appMeta, Uint8Array.of(9))
    t.same(await store.readSnapshot(), data)
    const chunks = await lastValueFrom(store.snapshotChunks$().pipe(toArray()))
    t.same(
      chunks.map((chunk) => chunk.length),
      [16, 16, 16, 16, 16, 16, 4],
    )
    t.same(Buffer.concat(chunks), Buffer.from(data))
    store = await reopen(store, location, { snapshotChunkBytes: 16 })
    t.same(await store.readSnapshot(), data)
    const writer = store.beginSnapshot()
    const streamed = snapshotPayload(6, 1, 50)
    await writer.write(streamed.subarray(0, 10))
    await writer.write(streamed.subarray(10))
    await store.append(makeEntries(5, 2, 1))
    await writer.commit({ lastIncludedIndex: 6, lastIncludedTerm: 1 })
    t.same(await store.readSnapshot(), streamed)
    await store.close()
    const chunkKeys = await withRawDatabase(
      location.database(),
      async (db) => (await rawRecords(db)).filter(([key]) => key[0] === snapshotChunkKey(0, 0)[0]).length,
    )
    t.equal(chunkKeys, 4, "the replaced snapshot's chunks are deleted")
  })

  scenario('an empty store has no snapshot data', async (t, location) => {
    const store = await location.open()
    t.equal(store.snapshotMeta, null)
    t.same(await store.readSnapshot(), new Uint8Array(0))
    t.same(await lastValueFrom(store.snapshotChunks$().pipe(toArray())), [])
    t.same(store.sizes(), { raftStateBytes: 0, snapshotBytes: 0 })
    await store.close()
  })

  scenario('sizes count what is stored: the log grows with appends and shrinks after a snapshot', async (t, location) => {
    let store = await location.open()
    await store.saveHardState({ term: 1, votedFor: 'a', commitIndex: 0 })
    const withHardState = store.sizes().raftStateBytes
    t.ok(withHardState > 0)
    await store.append(makeEntries(1, 20, 1))
    const withEntries = store.sizes()
    t.ok(withEntries.raftStateBytes > withHardState + 20 * 8, 'every entry adds at least its payload')
    t.equal(withEntries.snapshotBytes, 0)
    await store.close()
    const storedBytes = await withRawDatabase(location.database(), async (db) =>
      (await rawRecords(db))
        .filter(([key]) => key[0] === entryKey(0)[0] || key[0] === hardStateKey[0])
        .reduce((total, [key, value]) => total + key.length + value.length, 0),
    )
    t.equal(withEntries.raftStateBytes, storedBytes, 'raftStateBytes is the bytes of hard state and entries')
    store = await location.open()
    t.same(store.sizes(), withEntries)
    await store.saveSnapshot({ lastIncludedIndex: 15, lastIncludedTerm: 1 }, snapshotPayload(15, 0, 1000))
    const compacted = store.sizes()
    t.ok(compacted.raftStateBytes < withEntries.raftStateBytes / 2)
    t.ok(compacted.snapshotBytes >= 1000 && compacted.snapshotBytes < 1100, `snapshotBytes ${compacted.snapshotBytes}`)
    store = await reopen(store, location)
    t.same(store.sizes(), compacted)
    await store.close()
  })

  /** Everything a store holds and reports, read back in full. */
  const everythingIn = async (store: LogStore) => ({ ...(await readDurableState(store)), lastTerm: store.lastTerm, sizes: store.sizes() })

  scenario('a reopen after close restores log, hard state and snapshot', async (t, location) => {
    let store = await location.open({ snapshotChunkBytes: 32 })
    await store.append(makeEntries(1, 30, 1))
    await store.append(makeEntries(31, 10, 2))
    await store.saveSnapshot({ lastIncludedIndex: 12, lastIncludedTerm: 1, appMeta: Uint8Array.of(4, 2) }, snapshotPayload(12, 0, 200))
    await store.write({ hardState: { term: 2, votedFor: 'b', commitIndex: 35 }, entries: makeEntries(41, 5, 2) })
    const before = await everythingIn(store)
    store = await reopen(store, location, { snapshotChunkBytes: 32 })
    t.same(await everythingIn(store), before)
    t.equal(before.firstIndex, 13)
    t.equal(before.lastIndex, 45)
    t.same(before.snapshotData, snapshotPayload(12, 0, 200))
    await store.close()
  })

  scenario("a store refuses to open another node's data and stays usable by its owner", async (t, location) => {
    const owner = { clusterId: 'c1', nodeId: 'n1' }
    let store = await location.open({ identity: owner })
    await store.append(makeEntries(1, 2, 1))
    await store.close()
    await t.rejects(location.open({ identity: { clusterId: 'c1', nodeId: 'n2' } }), {
      code: 'ERR_LOG_IDENTITY',
      message: /belongs to node n1 of cluster c1, not node n2 of cluster c1/,
    })
    await t.rejects(location.open({ identity: { clusterId: 'c2', nodeId: 'n1' } }), { code: 'ERR_LOG_IDENTITY' })
    store = await location.open({ identity: owner })
    t.equal(store.lastIndex, 2)
    store = await reopen(store, location)
    t.equal(store.lastIndex, 2, 'opening without an identity does not check it')
    await store.close()
  })

  scenario('a new store needs a cluster id, records a random incarnation, and keeps both across reopens', async (t, location) => {
    await t.rejects(location.open({ identity: { nodeId: 'n1' } }), { code: 'ERR_LOG_CLUSTER_ID', message: /--cluster-id [0-9a-f]{16}/ })
    let store = await location.open({ identity: { clusterId: 'c1', nodeId: 'n1' } })
    const first = store.identity
    t.match(first, { clusterId: 'c1', nodeId: 'n1', incarnation: /^[0-9a-f]{16}$/, lostState: null })
    await store.close()
    store = await location.open({ identity: { nodeId: 'n1' } })
    t.same(store.identity, first, 'an existing directory tells its cluster id; the incarnation is the same')
    await store.close()
  })

  scenario('known peers and a lost-state mark are durable', async (t, location) => {
    let store = await location.open({ identity: { clusterId: 'c1', nodeId: 'n1' } })
    await store.recordKnownPeer('n2', 'aaaa')
    await store.recordKnownPeer('n3', 'bbbb')
    await store.recordKnownPeer('n2', 'cccc')
    await store.markLostState('leader n2 found the log at 3, acknowledged 9')
    store = await reopen(store, location, { identity: { nodeId: 'n1' } })
    t.same([...store.knownPeers.entries()].sort(), [
      ['n2', 'cccc'],
      ['n3', 'bbbb'],
    ])
    t.equal(store.identity?.lostState, 'leader n2 found the log at 3, acknowledged 9')
    await store.close()
  })

  scenario('concurrent writes are group-committed, resolve in order and land in order', async (t, location) => {
    let store = await location.open()
    const resolved: number[] = []
    const writes: Promise<void>[] = []
    for (let index = 1; index <= 200; index++) {
      writes.push(store.append(makeEntries(index, 1, 1 + Math.floor(index / 50))).then(() => void resolved.push(index)))
      if (index % 10 === 0) {
        writes.push(store.saveHardState({ term: 1 + Math.floor(index / 50), votedFor: null, commitIndex: index }))
      }
    }
    await Promise.all(writes)
    t.same(
      resolved,
      Array.from({ length: 200 }, (_, i) => i + 1),
      'appends resolve in issue order',
    )
    t.equal(store.groupCommitStats.writes, 220)
    t.ok(store.groupCommitStats.batches <= 10, `${store.groupCommitStats.batches} batches for 220 writes`)
    store = await reopen(store, location)
    t.same(store.hardState, { term: 5, votedFor: null, commitIndex: 200 })
    const entries = await store.readEntries(1)
    t.same(
      entries.map((entry) => entry.term),
      Array.from({ length: 200 }, (_, i) => 1 + Math.floor((i + 1) / 50)),
    )
    await store.close()
  })

  scenario('writes after close are refused', async (t, location) => {
    const store = await location.open()
    await store.close()
    await t.rejects(store.append(makeEntries(1, 1, 1)), { code: 'ERR_LOG_CLOSED' })
    await t.rejects(store.readEntry(1), { code: 'ERR_LOG_CLOSED' })
  })

  scenario('a failed write stops the store and loses no acknowledged entry', async (t, location) => {
    const faults = { failBatches: false }
    let store = await LogStore.open(withBatchFaults(location.database(), faults), { name: location.storeName })
    await store.append(makeEntries(1, 10, 1))
    // Two snapshot commits in flight; the second one's batch fails after the first is durable.
    const first = store.beginSnapshot()
    const second = store.beginSnapshot()
    const firstCommit = first.commit({ lastIncludedIndex: 3, lastIncludedTerm: 1 })
    faults.failBatches = true
    const secondCommit = second.commit({ lastIncludedIndex: 8, lastIncludedTerm: 1 })
    await firstCommit
    await t.rejects(secondCommit, { code: 'ERR_LOG_FAILED', message: /injected batch failure/ })
    await t.rejects(store.append(makeEntries(11, 1, 1)), { code: 'ERR_LOG_FAILED' })
    faults.failBatches = false
    store = await reopen(store, location)
    t.equal(store.snapshotMeta?.lastIncludedIndex, 3)
    t.same(plain(await store.readEntries(4)), makeEntries(4, 7, 1), 'entries only the failed snapshot covered are kept')
    await store.close()
  })

  /** Rewrites one stored value through the raw database while no store has it open. */
  const tamper = (location: LogLocation, edit: (db: LevelDatabase) => Promise<void>): Promise<void> => withRawDatabase(location.database(), edit)

  const flipLastByte = async (db: LevelDatabase, key: Uint8Array): Promise<void> => {
    const value = await db.get(key)
    if (value === undefined) throw new Error('nothing stored under the key to corrupt')
    const damaged = Uint8Array.from(value)
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 0x01
    await db.put(key, damaged)
  }

  const storeLabel = (location: LogLocation): RegExp => new RegExp(`log store "${escapeRegExp(location.storeName)}"`)

  scenario('a flipped byte in an entry is reported on open, naming the store and index', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 5, 1))
    await store.close()
    await tamper(location, (db) => flipLastByte(db, entryKey(3)))
    const error = await location.open().then(
      () => null,
      (error: unknown) => error,
    )
    t.match(error, { code: 'ERR_LOG_CORRUPT', message: /corrupt entry at index 3: checksum mismatch/ })
    t.match(error, { message: storeLabel(location) })
  })

  scenario('a flipped byte in the hard state is reported on open', async (t, location) => {
    const store = await location.open()
    await store.saveHardState({ term: 2, votedFor: 'n1', commitIndex: 0 })
    await store.close()
    await tamper(location, (db) => flipLastByte(db, hardStateKey))
    await t.rejects(location.open(), { code: 'ERR_LOG_CORRUPT', message: storeLabel(location) })
    await t.rejects(location.open(), { message: /corrupt hard state: checksum mismatch/ })
  })

  scenario('a flipped byte in the snapshot metadata is reported on open', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 3, 1))
    await store.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1 }, snapshotPayload(2, 0, 10))
    await store.close()
    await tamper(location, (db) => flipLastByte(db, snapshotMetaKey))
    await t.rejects(location.open(), { code: 'ERR_LOG_CORRUPT', message: /corrupt snapshot metadata: checksum mismatch/ })
  })

  scenario('a flipped byte in a snapshot chunk is reported when the snapshot is read', async (t, location) => {
    let store = await location.open({ snapshotChunkBytes: 16 })
    await store.append(makeEntries(1, 3, 1))
    const meta = await store.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 1 }, snapshotPayload(3, 0, 64))
    await store.close()
    await tamper(location, (db) => flipLastByte(db, snapshotChunkKey(meta.generation, 1)))
    store = await location.open({ snapshotChunkBytes: 16 })
    const where = new RegExp(`corrupt snapshot chunk 1 of generation ${meta.generation}: checksum mismatch`)
    await t.rejects(store.readSnapshot(), { code: 'ERR_LOG_CORRUPT', message: where })
    const received: Uint8Array[] = []
    const streamed = new Promise<unknown>((resolve) =>
      store.snapshotChunks$().subscribe({ next: (chunk) => received.push(chunk), error: resolve, complete: () => resolve(null) }),
    )
    t.match(await streamed, { code: 'ERR_LOG_CORRUPT', message: where })
    t.equal(received.length, 1, 'the intact chunk before the damaged one is delivered')
    await store.close()
  })

  scenario('an entry deleted from the middle of the log is reported on open', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 10, 1))
    await store.close()
    await tamper(location, (db) => db.del(entryKey(5)))
    await t.rejects(location.open(), { code: 'ERR_LOG_CORRUPT', message: /entry at index 5: missing: the next stored entry is 6/ })
  })

  scenario('an entry copied under another index is reported: the checksum covers the key', async (t, location) => {
    const store = await location.open()
    await store.append(makeEntries(1, 5, 1))
    await store.close()
    await tamper(location, async (db) => {
      const value = await db.get(entryKey(3))
      if (value === undefined) throw new Error('entry 3 is not stored')
      await db.put(entryKey(4), Uint8Array.from(value))
    })
    await t.rejects(location.open(), { code: 'ERR_LOG_CORRUPT', message: /corrupt entry at index 4: checksum mismatch/ })
  })
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

conformance(t, memoryBackend)
conformance(t, diskBackend)
