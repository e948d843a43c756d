// What LogStore does on top of any backend when the backend fails or its data is damaged: a
// failed write stops the store without losing acknowledged entries, and every flipped byte, missing
// record or misplaced value is reported, naming the store and where. Run against memory-level and
// classic-level on disk; the promises every backend keeps are in lograft/testing's conformance
// suite (log-store-conformance.test.ts).

import t, { type Test } from 'tap'
import { LogStore, type LevelDatabase, type LogStoreOptions } from '../src/log/index.js'
import { entryKey, hardStateKey, snapshotChunkKey, snapshotMetaKey } from '../src/log/keys.js'
import { makeEntries, plain, snapshotPayload } from '../src/testing/log-entries.js'
import { withRawDatabase } from '../src/testing/raw-database.js'
import { type LogBackend, type NamedLogLocation, diskBackend, memoryBackend, withBatchFaults } from './helpers/log.js'

/** A location whose stores are opened through LogStore.open, each after the previous one closed. */
interface LogLocation extends NamedLogLocation {
  open(options?: Partial<LogStoreOptions>): Promise<LogStore>
}

function damage(t: Test, backend: LogBackend): void {
  /** Declares a test that gets a fresh location, removed afterwards. */
  const scenario = (behaviour: string, body: (t: Test, location: LogLocation) => Promise<void>): void => {
    void t.test(`${backend.name}: ${behaviour}`, async (t) => {
      const named = backend.createLocation()
      t.teardown(named.remove)
      const location = { ...named, open: (options: Partial<LogStoreOptions> = {}) => LogStore.open(named.database(), { name: named.storeName, ...options }) }
      await body(t, location)
    })
  }

  /** Closes `store` and opens the location again: what a restart sees. */
  const reopen = async (store: LogStore, location: LogLocation, options?: Partial<LogStoreOptions>): Promise<LogStore> => {
    await store.close()
    return location.open(options)
  }

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

damage(t, memoryBackend)
damage(t, diskBackend)
