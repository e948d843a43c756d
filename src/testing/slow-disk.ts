// A simulated disk whose writes take time: every chained batch a LogStore writes (its entries and
// hard state, through group commit) completes `writeMs` of virtual time after it is handed over.
// Tests use it to see what a node does while an fsync is still in flight.

import type { MemoryLevel } from 'memory-level'
import { type Clock, sleep } from '../base/clock.js'

type Database = MemoryLevel<Uint8Array, Uint8Array>

/** Makes the chained batches of `database` take `writeMs` of `clock`'s time to write; returns it. */
export function slowWrites(database: Database, clock: Clock, writeMs: number): Database {
  const openBatch = database.batch.bind(database) as () => ReturnType<Database['batch']>
  const chainedBatch = (): ReturnType<Database['batch']> => {
    const batch = openBatch()
    const write = batch.write.bind(batch)
    batch.write = async (options?: Parameters<typeof write>[0]): Promise<void> => {
      await sleep(clock, writeMs)
      await (options === undefined ? write() : write(options))
    }
    return batch
  }
  // Only the chained form (no arguments) is slowed: the LogStore writes entries and hard state with it.
  ;(database as { batch: unknown }).batch = (...args: unknown[]) => (args.length === 0 ? chainedBatch() : (openBatch as (...a: unknown[]) => unknown)(...args))
  return database
}
