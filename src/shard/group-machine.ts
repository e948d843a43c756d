// The sharded-KV replica group as a state machine. Everything a group does goes through its own
// log, so every replica agrees: client operations (each shard with its own sessions), moving to the
// next configuration, chunks of an incoming shard (its snapshot, then the log segment of operations
// on it since), deleting a shard the new owner has confirmed, and clearing that confirmation.

import { type KvCommand, KvState, type KvResult, commandKeys, kvMachine, routingKey, spansEveryKey, kvResultCodec, purgeCommand } from '../kv/kv.js'
import { addEntry } from '../kv/kv-state-encoding.js'
import { type SessionLimits, SessionTable } from '../statemachine/sessions.js'
import type { StateMachine } from '../statemachine/types.js'
import { bytesEqual } from '../base/bytes.js'
import { assert } from '../base/assert.js'
import { NO_GROUP, type KeyToShard, type ShardConfig, initialConfig } from './config.js'
import { decodeGroupCommand, decodeGroupResult, decodeGroupState, encodeGroupCommand, encodeGroupResult, encodeGroupState } from './group-codec.js'
import { GroupStateEncoding } from './group-state-encoding.js'
import { ShardDigest } from './shard-digest.js'
import { type IncomingTransfer, type ShardState, emptyShard, sortedShardDigest } from './shard-state.js'
import type { ClientOperation, GroupCommand, GroupError, GroupResult, GroupState } from './group-types.js'

export type { ClientOperation, GroupCommand, GroupError, GroupResult, GroupState } from './group-types.js'

export interface GroupMachineOptions {
  gid: number
  shardCount: number
  keyToShard: KeyToShard
  sessionLimits: SessionLimits
}

const kv = kvMachine({ appendReturnsOldValue: false })

function result(err: GroupError, shard = -1, event: GroupResult['event'] = 'none', kvResult: KvResult | null = null): GroupResult {
  return { err, kv: kvResult, shard, event }
}

/** True when no shard is on its way in or out: only then may the group take the next configuration. */
export function isSettled(state: GroupState): boolean {
  for (const shard of state.shards.values()) if (shard.status !== 'serving' || shard.gcPending) return false
  return true
}

/** Whether this group serves `shard` now. */
export function serves(state: GroupState, shard: number): boolean {
  return state.config.shards[shard] === state.gid && state.shards.get(shard)?.status === 'serving'
}

/** Applies one client operation to a shard, with that shard's sessions (exactly once). */
export function applyToShard(shard: ShardState, operation: ClientOperation): { applied: boolean; kv: KvResult | undefined } {
  const { command } = operation
  // The KV reducer depends on neither index nor term, and a migration replays an operation at
  // another group's index: only the operation's own time goes with it.
  const context = { index: 0, term: 0, timeMs: operation.timeMs }
  if (kv.isReadOnly(command)) return { applied: false, kv: kv.apply(shard.data, command, context).result }
  // Only operations that run move the shard's log time: a migration replays exactly those, and the
  // rebuilt shard must match the original to the byte. The leader's purges have no session.
  if (operation.clientId === 0) return { applied: true, kv: kv.apply(shard.data, command, context).result }
  const check = shard.sessions.check(operation.clientId, operation.sequence)
  if (check.kind === 'duplicate') return { applied: false, kv: check.result }
  if (check.kind === 'stale') return { applied: false, kv: undefined }
  const applied = kv.apply(shard.data, command, context).result
  shard.sessions.record(operation.clientId, operation.sequence, applied, operation.timeMs)
  return { applied: true, kv: applied }
}

/** Takes `key`'s contents out of a pulling shard's digest (before a change), or puts them in (after). */
function sumKey(digest: ShardDigest | null, data: KvState, key: string, sign: 'leave' | 'join'): void {
  const value = data.entries.get(key)
  if (digest === null || value === undefined) return
  if (sign === 'leave') digest.remove(key, value, data.deadlines.get(key))
  else digest.add(key, value, data.deadlines.get(key))
}

/** Runs `change` on `keys` of a shard being pulled, keeping the transfer's digest in step. */
function changeKeys(shard: ShardState, transfer: IncomingTransfer, keys: readonly string[], change: () => void): void {
  const touched = new Set(keys)
  for (const key of touched) sumKey(transfer.digest, shard.data, key, 'leave')
  change()
  // Read shard.data again after the change: a flush swaps in new maps.
  for (const key of touched) sumKey(transfer.digest, shard.data, key, 'join')
}

/** Redis Cluster's words for keys of more than one shard in one command. */
export const CROSS_SHARD = "CROSSSLOT Keys in request don't hash to the same slot"

/**
 * Why the sharded KV cannot run `command` as one operation on `shardId`, or null: its keys must all
 * be of that shard (a multi-key command or transaction is atomic within one shard only), and a
 * keyless one (dbsize, keys, scan, flush) would span every shard.
 */
export function shardRefusal(command: KvCommand, shardId: number, options: Pick<GroupMachineOptions, 'keyToShard' | 'shardCount'>): KvResult | null {
  const keys = commandKeys(command)
  if (keys.length === 0 || spansEveryKey(command))
    return { value: '', found: false, length: 0, error: `ERR ${command.op.toUpperCase()} spans every shard, which the sharded KV does not do in one command` }
  if (keys.some((key) => options.keyToShard(key, options.shardCount) !== shardId)) return { value: '', found: false, length: 0, error: CROSS_SHARD }
  return null
}

export function groupMachine(options: GroupMachineOptions): StateMachine<GroupState, GroupCommand, GroupResult> {
  const limits = options.sessionLimits

  function applyConfig(state: GroupState, config: ShardConfig): GroupResult {
    if (config.num !== state.config.num + 1) return result('ErrStale')
    if (!isSettled(state)) return result('ErrNotReady')
    const previous = state.config
    for (let shard = 0; shard < config.shards.length; shard++) {
      const ownedBefore = previous.shards[shard] === state.gid
      const ownedNow = config.shards[shard] === state.gid
      if (ownedNow && !ownedBefore) {
        // A shard nobody served before starts empty; otherwise its data comes from its last owner.
        const fresh = previous.shards[shard] === NO_GROUP
        state.shards.set(shard, emptyShard(fresh ? 'serving' : 'pulling', limits))
      } else if (ownedBefore && !ownedNow) {
        const held = state.shards.get(shard)
        if (held) held.status = 'offering'
      }
    }
    state.previous = previous
    state.config = config
    return result('OK')
  }

  function applyChunk(state: GroupState, command: Extract<GroupCommand, { kind: 'chunk' }>): GroupResult {
    const shard = state.shards.get(command.shard)
    if (command.configNum !== state.config.num || !shard || shard.status !== 'pulling') return result('ErrStale', command.shard)
    if (command.index === 0) {
      shard.data = new KvState()
      shard.sessions = emptyShard('pulling', limits).sessions
      shard.transfer = { id: command.transferId, nextChunk: 0, digest: new ShardDigest(), arrived: { pieces: [], count: 0 } }
    }
    const transfer = shard.transfer
    if (!transfer || transfer.id !== command.transferId || transfer.nextChunk !== command.index) return result('ErrStale', command.shard)
    transfer.nextChunk++
    const payload = command.payload
    switch (payload.kind) {
      case 'data':
        transfer.arrived = null
        for (const [key, value] of payload.entries) {
          sumKey(transfer.digest, shard.data, key, 'leave')
          shard.data.set(key, value)
          sumKey(transfer.digest, shard.data, key, 'join')
        }
        return result('OK', command.shard)
      case 'entries': {
        let fresh = payload.encoded !== undefined
        for (const entry of payload.entries) {
          if (shard.data.entries.has(entry.key)) fresh = false
          sumKey(transfer.digest, shard.data, entry.key, 'leave')
          addEntry(shard.data, entry)
          sumKey(transfer.digest, shard.data, entry.key, 'join')
        }
        if (transfer.arrived && fresh && payload.encoded) {
          // A copy: the decoded command's bytes belong to whoever read them.
          transfer.arrived.pieces.push(payload.encoded.slice())
          transfer.arrived.count += payload.entries.length
        } else transfer.arrived = null
        return result('OK', command.shard)
      }
      case 'clock':
        shard.data.advanceClock(payload.clockMs)
        return result('OK', command.shard)
      case 'sessions':
        shard.sessions = SessionTable.decode(payload.encoded, kvResultCodec, limits)
        return result('OK', command.shard)
      case 'ops':
        if (payload.operations.length > 0) transfer.arrived = null
        for (const operation of payload.operations) {
          // A command on every key (none reaches a shard's log today) leaves the sum to be taken again at the end.
          if (spansEveryKey(operation.command)) transfer.digest = null
          changeKeys(shard, transfer, commandKeys(operation.command), () => void applyToShard(shard, operation))
        }
        return result('OK', command.shard)
      case 'end':
        // The source's frozen shard and the one rebuilt here from its snapshot and log segment
        // must be identical; anything else is a bug that would lose data, so stop loudly.
        assertRebuilt(command, sortedShardDigest(shard), payload.digest)
        return complete(shard, command)
      case 'seal': {
        const digest = transfer.digest ?? ShardDigest.of(shard.data.entries, shard.data.deadlines)
        assertRebuilt(command, digest.finish(shard.data.clockMs, shard.sessions.encode(kvResultCodec)), payload.digest)
        return complete(shard, command)
      }
    }
  }

  function assertRebuilt(command: Extract<GroupCommand, { kind: 'chunk' }>, rebuilt: Uint8Array, expected: Uint8Array): void {
    assert(bytesEqual(rebuilt, expected), () => `shard ${command.shard} of config ${command.configNum} did not rebuild to the source's state`)
  }

  function complete(shard: ShardState, command: Extract<GroupCommand, { kind: 'chunk' }>): GroupResult {
    shard.status = 'serving'
    shard.transfer = null
    shard.gcPending = true
    return result('OK', command.shard, 'complete')
  }

  return {
    name: 'ShardKV',
    initial: () => ({ gid: options.gid, config: initialConfig(options.shardCount), previous: initialConfig(options.shardCount), shards: new Map() }),
    isReadOnly: () => false,
    commandCodec: { encode: encodeGroupCommand, decode: decodeGroupCommand },
    resultCodec: { encode: encodeGroupResult, decode: decodeGroupResult },
    stateCodec: { encode: encodeGroupState, decode: (bytes) => decodeGroupState(bytes, limits) },
    encodeIncrementally: (state) => new GroupStateEncoding(state, options.keyToShard, options.shardCount),
    nextDueMs: (state) => {
      let earliest: number | null = null
      for (const [id, shard] of state.shards) {
        const due = serves(state, id) ? shard.data.nextDeadline() : null
        if (due !== null && (earliest === null || due < earliest)) earliest = due
      }
      return earliest
    },
    dueCommand: (state, nowMs) => {
      for (const [id, shard] of state.shards) {
        const command = serves(state, id) ? purgeCommand(shard.data, nowMs) : null
        if (command) return { kind: 'op', clientId: 0, sequence: 0, timeMs: nowMs, command }
      }
      return null
    },
    apply(state, command) {
      switch (command.kind) {
        case 'op': {
          const shardId = options.keyToShard(routingKey(command.command), options.shardCount)
          const refusal = shardRefusal(command.command, shardId, options)
          if (refusal) return { state, result: result('OK', shardId, 'none', refusal) }
          if (!serves(state, shardId)) return { state, result: result('ErrWrongGroup', shardId) }
          const outcome = applyToShard(state.shards.get(shardId) as ShardState, command)
          return { state, result: result('OK', shardId, outcome.applied ? 'op' : 'none', outcome.kv ?? null) }
        }
        case 'config':
          return { state, result: applyConfig(state, command.config) }
        case 'chunk':
          return { state, result: applyChunk(state, command) }
        case 'delete': {
          if (command.configNum > state.config.num) return { state, result: result('ErrNotReady', command.shard) }
          const held = state.shards.get(command.shard)
          if (command.configNum === state.config.num && held?.status === 'offering') state.shards.delete(command.shard)
          return { state, result: result('OK', command.shard) }
        }
        case 'gc-done': {
          const held = state.shards.get(command.shard)
          if (command.configNum === state.config.num && held) held.gcPending = false
          return { state, result: result('OK', command.shard) }
        }
      }
    },
  }
}
