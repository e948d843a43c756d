// A model of what a LogStore should hold after a sequence of writes, for the crash test: the child
// writer describes each write it issues as a WriterOp, and the parent folds those ops over the
// model to predict the durable state, then compares it with what a reopened store holds.

import type { HardState } from '../../src/log/index.js'
import type { DurableState } from '../../src/testing/durable-state.js'
import { entryPayload, snapshotPayload } from '../../src/testing/log-entries.js'

export type WriterOp =
  | { readonly kind: 'append'; readonly from: number; readonly count: number; readonly term: number; readonly nonce: number }
  | { readonly kind: 'hardState'; readonly state: HardState }
  | { readonly kind: 'snapshot'; readonly index: number; readonly term: number; readonly nonce: number; readonly sizeBytes: number }

interface ModelEntry {
  readonly index: number
  readonly term: number
  /** Tags the write that stored this entry; the payload bytes derive from it. */
  readonly nonce: number
}

export interface LogModel {
  readonly snapshot: Extract<WriterOp, { kind: 'snapshot' }> | null
  /** Retained entries in index order, starting one past the snapshot. */
  readonly entries: readonly ModelEntry[]
  readonly hardState: HardState
}

export const EMPTY_MODEL: LogModel = { snapshot: null, entries: [], hardState: { term: 0, votedFor: null, commitIndex: 0 } }

/** The model after `op`, with the store's semantics for truncation and compaction. */
export function applyOp(model: LogModel, op: WriterOp): LogModel {
  switch (op.kind) {
    case 'append': {
      const kept = model.entries.filter((entry) => entry.index < op.from)
      const added = Array.from({ length: op.count }, (_, offset) => ({ index: op.from + offset, term: op.term, nonce: op.nonce }))
      return { ...model, entries: [...kept, ...added] }
    }
    case 'hardState':
      return { ...model, hardState: op.state }
    case 'snapshot': {
      const last = model.entries.find((entry) => entry.index === op.index)
      const entries = last?.term === op.term ? model.entries.filter((entry) => entry.index > op.index) : []
      return { ...model, snapshot: op, entries }
    }
  }
}

/** How `state` differs from `model`, or null if it holds exactly what the model predicts. */
export function mismatch(state: DurableState, model: LogModel): string | null {
  const hard = state.hardState
  const want = model.hardState
  if (hard.term !== want.term || hard.votedFor !== want.votedFor || hard.commitIndex !== want.commitIndex) {
    return `hard state ${JSON.stringify(hard)}, expected ${JSON.stringify(want)}`
  }
  const snapshotIndex = model.snapshot?.index ?? 0
  if ((state.snapshotMeta?.lastIncludedIndex ?? 0) !== snapshotIndex || (state.snapshotMeta?.lastIncludedTerm ?? 0) !== (model.snapshot?.term ?? 0)) {
    return `snapshot through ${state.snapshotMeta?.lastIncludedIndex ?? 0}, expected through ${snapshotIndex}`
  }
  const snapshotData = model.snapshot ? snapshotPayload(model.snapshot.index, model.snapshot.nonce, model.snapshot.sizeBytes) : new Uint8Array(0)
  if (!Buffer.from(state.snapshotData).equals(snapshotData)) return `snapshot through ${snapshotIndex} has other data`
  if (state.firstIndex !== snapshotIndex + 1) return `first index ${state.firstIndex}, expected ${snapshotIndex + 1}`
  const expectedLast = model.entries.at(-1)?.index ?? snapshotIndex
  if (state.lastIndex !== expectedLast || state.entries.length !== model.entries.length) {
    return `log ends at ${state.lastIndex} with ${state.entries.length} entries, expected ${expectedLast} with ${model.entries.length}`
  }
  for (const [position, expected] of model.entries.entries()) {
    const actual = state.entries[position]
    if (!actual || actual.index !== expected.index || actual.term !== expected.term) {
      return `entry ${actual?.index}@${actual?.term} where ${expected.index}@${expected.term} belongs`
    }
    if (!Buffer.from(actual.data).equals(entryPayload(expected.index, expected.term, expected.nonce))) {
      return `entry ${expected.index} holds other bytes than write ${expected.nonce} stored`
    }
  }
  return null
}

/**
 * The model `durable` matches when it holds `from` plus the first n of `unacknowledged` (the only
 * states a crash may leave, since group commit writes batches in order and each atomically), with
 * that n; null when it matches none of them.
 */
export function durablePrefix(durable: DurableState, from: LogModel, unacknowledged: readonly WriterOp[]): { model: LogModel; count: number } | null {
  let model = from
  for (let count = 0; ; count++) {
    if (mismatch(durable, model) === null) return { model, count }
    const next = unacknowledged[count]
    if (next === undefined) return null
    model = applyOp(model, next)
  }
}
