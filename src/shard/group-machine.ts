// The sharded-KV replica group as a state machine. Everything a group does goes through its own
// log, so every replica agrees: client operations (each shard with its own sessions), moving to the
// next configuration, chunks of an incoming shard (its snapshot, then the log segment of operations
// on it since), deleting a shard the new owner has confirmed, and clearing that confirmation.

import { type KvResult, kvMachine, kvResultCodec } from '../kv/kv.js'
import { type SessionLimits, SessionTable } from '../statemachine/sessions.js'
import type { StateMachine } from '../statemachine/types.js'
import { bytesEqual } from '../base/bytes.js'
import { assert } from '../base/assert.js'
import { NO_GROUP, type KeyToShard, type ShardConfig, initialConfig } from './config.js'
import { decodeGroupCommand, decodeGroupResult, decodeGroupState, encodeGroupCommand, encodeGroupResult, encodeGroupState } from './group-codec.js'
import { GroupStateEncoding } from './group-state-encoding.js'
import { type ShardState, emptyShard, shardDigest } from './shard-state.js'
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
  if (command.op === 'get') return { applied: false, kv: kv.apply(shard.data, command, context).result }
  // Only operations that run move the shard's log time: a migration replays exactly those, and the
  // rebuilt shard must match the original to the byte.
  const check = shard.sessions.check(operation.clientId, operation.sequence)
  if (check.kind === 'duplicate') return { applied: false, kv: check.result }
  if (check.kind === 'stale') return { applied: false, kv: undefined }
  const applied = kv.apply(shard.data, command, context).result
  shard.sessions.record(operation.clientId, operation.sequence, applied, operation.timeMs)
  return { applied: true, kv: applied }
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
      shard.data = new Map()
      shard.sessions = emptyShard('pulling', limits).sessions
      shard.transfer = { id: command.transferId, nextChunk: 0 }
    }
    const transfer = shard.transfer
    if (!transfer || transfer.id !== command.transferId || transfer.nextChunk !== command.index) return result('ErrStale', command.shard)
    transfer.nextChunk++
    const payload = command.payload
    switch (payload.kind) {
      case 'data':
        for (const [key, value] of payload.entries) shard.data.set(key, value)
        return result('OK', command.shard)
      case 'sessions':
        shard.sessions = SessionTable.decode(payload.encoded, kvResultCodec, limits)
        return result('OK', command.shard)
      case 'ops':
        for (const operation of payload.operations) applyToShard(shard, operation)
        return result('OK', command.shard)
      case 'end': {
        const digest = shardDigest(shard)
        // The source's frozen shard and the one rebuilt here from its snapshot and log segment
        // must be identical; anything else is a bug that would lose data, so stop loudly.
        assert(bytesEqual(digest, payload.digest), () => `shard ${command.shard} of config ${command.configNum} did not rebuild to the source's state`)
        shard.status = 'serving'
        shard.transfer = null
        shard.gcPending = true
        return result('OK', command.shard, 'complete')
      }
    }
  }

  return {
    name: 'ShardKV',
    initial: () => ({ gid: options.gid, config: initialConfig(options.shardCount), previous: initialConfig(options.shardCount), shards: new Map() }),
    isReadOnly: () => false,
    commandCodec: { encode: encodeGroupCommand, decode: decodeGroupCommand },
    resultCodec: { encode: encodeGroupResult, decode: decodeGroupResult },
    stateCodec: { encode: encodeGroupState, decode: (bytes) => decodeGroupState(bytes, limits) },
    encodeIncrementally: (state) => new GroupStateEncoding(state, options.keyToShard, options.shardCount),
    apply(state, command) {
      switch (command.kind) {
        case 'op': {
          const shardId = options.keyToShard(command.command.key, options.shardCount)
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
