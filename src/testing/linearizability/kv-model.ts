// The sequential specification of a key/value service (6.5840's KV labs): get, put, append, delete
// and incr (Redis's INCRBY) on string values, checked one key at a time.

import { partitionByKey } from './kv-partition.js'
import type { KvInput, KvOutput } from './kv-types.js'
import type { Model, StepResult } from './types.js'
import { quote } from './text.js'
import { addInt64 } from '../../base/int64.js'

export type { KvInput, KvOutput } from './kv-types.js'

/** What the service's append returns, which the model then checks. */
export interface KvModelOptions {
  /** Whether append returns the value it appended to (as in 6.5840's kvsrv lab). */
  appendReturnsOld: boolean
  /**
   * Whether append outputs carry the value's new length. Each then pins down its place among the
   * appends, which keeps the search linear on histories of many concurrent appends to one key.
   */
  appendReturnsLength?: boolean
  /** Whether puts give keys times to live (then a get can see a key expire, and is not a pure read). */
  withExpiry?: boolean
}

/**
 * The state of one key (histories are partitioned by key): its value, null when missing, and the
 * earliest log time its time to live can end (null: none). Expiry is by log time, which never runs
 * ahead of the clock of the operations' callers: a key can be seen gone no earlier than its put's
 * call plus the TTL, and once seen gone it stays gone until written again.
 */
export interface KvState {
  readonly value: string | null
  readonly earliestExpiryMs: number | null
}

const MISSING: KvState = { value: null, earliestExpiryMs: null }

/** Whether a put writes, given whether its key exists (NX a missing key, XX an existing one). */
function putWrites(condition: KvInput['condition'], found: boolean): boolean {
  return condition === undefined || (condition === 'xx') === found
}

/**
 * The sequential specification of a key/value service: get, put (with Redis's NX, XX, GET and PX),
 * append, delete, incr and single-key transactions, partitioned by key so that each key is checked
 * on its own.
 */
export function kvModel(options: KvModelOptions): Model<KvState, KvInput, KvOutput> {
  const seen = (output: KvOutput | undefined, state: KvState): boolean =>
    output === undefined || (output.value === (state.value ?? '') && (output.found === undefined || output.found === (state.value !== null)))

  function applyOne(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
    const found = state.value !== null
    switch (input.op) {
      case 'get':
        return { ok: seen(output, state), state }
      case 'put': {
        const writes = putWrites(input.condition, found)
        const foundOk = output?.found === undefined || output.found === found
        const oldOk = !input.returnOld || output === undefined || output.value === (state.value ?? '')
        const expiry = input.keepTtl ? state.earliestExpiryMs : input.ttlMs === undefined ? null : (input.calledAtMs ?? 0) + input.ttlMs
        const next = writes ? { value: input.value, earliestExpiryMs: expiry } : state
        return { ok: foundOk && oldOk, state: next }
      }
      case 'append': {
        const value = (state.value ?? '') + input.value
        const lengthOk = !options.appendReturnsLength || output?.length === undefined || output.length === value.length
        return { ok: lengthOk && (!options.appendReturnsOld || output === undefined || output.value === (state.value ?? '')), state: { ...state, value } }
      }
      case 'delete':
        return { ok: output?.found === undefined || output.found === found, state: MISSING }
      case 'incr': {
        // A missing key counts as 0. Without recorded found, the model cannot tell it from an empty
        // value, which Redis would refuse, so histories should not put '' where they count.
        const next = addInt64(state.value === null || state.value === '' ? '0' : state.value, input.value)
        if (next === 'not-an-integer' || next === 'overflow') return { ok: output === undefined || output.error !== undefined, state }
        return { ok: output === undefined || (output.error === undefined && output.value === next), state: { ...state, value: next } }
      }
      case 'multi': {
        let current = state
        for (const [at, command] of (input.commands ?? []).entries()) {
          const step = applyOne(current, command, output?.results?.[at])
          if (!step.ok) return step
          current = step.state
        }
        return { ok: true, state: current }
      }
    }
  }

  return {
    init: () => MISSING,
    step(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
      const unexpired = applyOne(state, input, output)
      if (unexpired.ok) return unexpired
      // Past the earliest deadline (by the time this operation returned), the key may have expired
      // just before it applied: the output tells which.
      const mayHaveExpired =
        state.value !== null && state.earliestExpiryMs !== null && output?.returnedAtMs !== undefined && output.returnedAtMs >= state.earliestExpiryMs
      return mayHaveExpired ? applyOne(MISSING, input, output) : unexpired
    },
    // A get can see a key expire, which changes the state, so with times to live gets are not reads.
    readOnly: (input) => input.op === 'get' && !options.withExpiry,
    partition: (operations) => partitionByKey(operations, options.appendReturnsOld, options.appendReturnsLength ?? false),
    key: (state) => (state.earliestExpiryMs === null ? (state.value === null ? '\u0000missing' : state.value) : JSON.stringify(state)),
    describeState: (state) =>
      (state.value === null ? 'missing' : quote(state.value)) + (state.earliestExpiryMs === null ? '' : ` (expires at ${state.earliestExpiryMs} ms or later)`),
    describeOperation: describe,
  }

  function describe(input: KvInput, output: KvOutput | undefined): string {
    const result = output === undefined ? '?' : output.found === false ? 'missing' : quote(output.value)
    switch (input.op) {
      case 'get':
        return `get(${quote(input.key)}) → ${result}`
      case 'put': {
        const flags = [input.condition?.toUpperCase(), input.returnOld ? 'GET' : undefined, input.ttlMs === undefined ? undefined : `PX ${input.ttlMs}`].filter(
          Boolean,
        )
        const shown = flags.length === 0 ? '' : ` ${flags.join(' ')}`
        return `put(${quote(input.key)}, ${quote(input.value)}${shown})${input.condition || input.returnOld ? ` → ${result}` : ''}`
      }
      case 'append':
        if (options.appendReturnsOld) return `append(${quote(input.key)}, ${quote(input.value)}) → ${result}`
        if (options.appendReturnsLength) return `append(${quote(input.key)}, ${quote(input.value)}) → length ${output?.length ?? '?'}`
        return `append(${quote(input.key)}, ${quote(input.value)})`
      case 'delete':
        return `delete(${quote(input.key)})`
      case 'incr':
        return `incr(${quote(input.key)}, ${input.value}) → ${output?.error === undefined ? result : `error ${output.error}`}`
      case 'multi':
        return `multi[${(input.commands ?? []).map((command, at) => describe(command, output?.results?.[at])).join('; ')}]`
    }
  }
}
