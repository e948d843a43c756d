// What a LogStore holds, read back in full and verified: for checks that a reopened store has
// exactly what was written before the close (or the crash).

import type { HardState, LogStore, SnapshotMeta } from '../log/index.js'

/** Everything a reopened store holds, read and verified. */
export interface DurableState {
  readonly hardState: HardState
  readonly snapshotMeta: SnapshotMeta | null
  readonly snapshotData: Uint8Array
  readonly firstIndex: number
  readonly lastIndex: number
  readonly entries: ReadonlyArray<{ index: number; term: number; data: Uint8Array }>
}

export async function readDurableState(store: LogStore): Promise<DurableState> {
  return {
    hardState: store.hardState,
    snapshotMeta: store.snapshotMeta,
    snapshotData: await store.readSnapshot(),
    firstIndex: store.firstIndex,
    lastIndex: store.lastIndex,
    entries: await store.readEntries(store.firstIndex),
  }
}
