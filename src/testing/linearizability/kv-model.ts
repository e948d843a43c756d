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
}

/**
 * The state is the value of one key, since histories are partitioned by key. A missing key is
 * the empty string: no operation can tell the two apart, and one state memoises better than two.
 */
export type KvState = string

/**
 * The sequential specification of a key/value service: get, put, append and delete on string
 * values, partitioned by key so that each key is checked on its own.
 */
export function kvModel(options: KvModelOptions): Model<KvState, KvInput, KvOutput> {
  const observed = (output: KvOutput | undefined, value: string): boolean => output === undefined || output.value === value
  return {
    init: () => '',
    step(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
      switch (input.op) {
        case 'get':
          return { ok: observed(output, state), state }
        case 'put':
          return { ok: true, state: input.value }
        case 'append': {
          const next = state + input.value
          const lengthOk = !options.appendReturnsLength || output?.length === undefined || output.length === next.length
          return { ok: lengthOk && (!options.appendReturnsOld || observed(output, state)), state: next }
        }
        case 'delete':
          return { ok: true, state: '' }
        case 'incr': {
          // A missing key counts as 0; the model cannot tell it from an empty value, which Redis
          // would refuse, so histories should not put '' where they count.
          const next = addInt64(state === '' ? '0' : state, input.value)
          if (next === 'not-an-integer' || next === 'overflow') return { ok: output === undefined || output.error !== undefined, state }
          return { ok: output === undefined || (output.error === undefined && output.value === next), state: next }
        }
      }
    },
    readOnly: (input) => input.op === 'get',
    partition: (operations) => partitionByKey(operations, options.appendReturnsOld, options.appendReturnsLength ?? false),
    key: (state) => state,
    describeState: (state) => quote(state),
    describeOperation(input: KvInput, output: KvOutput | undefined): string {
      const result = output === undefined ? '?' : quote(output.value)
      switch (input.op) {
        case 'get':
          return `get(${quote(input.key)}) → ${result}`
        case 'put':
          return `put(${quote(input.key)}, ${quote(input.value)})`
        case 'append':
          if (options.appendReturnsOld) return `append(${quote(input.key)}, ${quote(input.value)}) → ${result}`
          if (options.appendReturnsLength) return `append(${quote(input.key)}, ${quote(input.value)}) → length ${output?.length ?? '?'}`
          return `append(${quote(input.key)}, ${quote(input.value)})`
        case 'delete':
          return `delete(${quote(input.key)})`
        case 'incr':
          return `incr(${quote(input.key)}, ${input.value}) → ${output?.error === undefined ? result : `error ${output.error}`}`
      }
    },
  }
}
