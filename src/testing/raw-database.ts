// Raw access to the database under a LogStore, for checks of what it really holds (space given
// back after truncation and compaction) and for tests that damage it on purpose.

import type { LevelDatabase } from '../log/index.js'

/** Opens `db` (unless already open), runs `work` on it and closes it again. */
export async function withRawDatabase<T>(db: LevelDatabase, work: (db: LevelDatabase) => Promise<T>): Promise<T> {
  if (db.status !== 'open') await db.open()
  try {
    return await work(db)
  } finally {
    await db.close()
  }
}

/** Every key and value stored in `db`, in key order. */
export async function rawRecords(db: LevelDatabase): Promise<Array<[Uint8Array, Uint8Array]>> {
  const records: Array<[Uint8Array, Uint8Array]> = []
  for await (const record of db.iterator()) records.push(record)
  return records
}
