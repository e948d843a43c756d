// Splits a KV history into one partition per key, and leaves out the operations with an unknown
// outcome that cannot matter to any linearization: each would otherwise be a choice the search
// has to consider at every step from its call to the end of the history.

import type { KvInput, KvOutput } from './kv-types.js'
import type { Operation, Partition } from './types.js'

type KvOperation = Operation<KvInput, KvOutput>

export function partitionByKey(operations: readonly KvOperation[], appendReturnsOld: boolean, appendReturnsLength: boolean): Partition<KvInput, KvOutput>[] {
  const byKey = new Map<string, KvOperation[]>()
  for (const operation of operations) {
    const list = byKey.get(operation.input.key)
    if (list === undefined) byKey.set(operation.input.key, [operation])
    else list.push(operation)
  }
  return [...byKey].map(([key, keyOperations]) => ({ key, operations: withoutUnobservable(keyOperations, appendReturnsOld, appendReturnsLength) }))
}

/**
 * Drops, from one key's operations, those with an unknown outcome that no output can have seen:
 * - a get: it changes nothing;
 * - a put or append whose value appears in no output of an operation returning after its call.
 *   Had it taken effect, the first operation to observe the key afterwards would see its value
 *   in the result (appends only add to the end), unless a put or delete replaced the value first;
 * - likewise a delete, when no such output is empty or starts with an appended value.
 * Each dropped operation is one a linearization can do without, since nothing saw it.
 */
function withoutUnobservable(operations: readonly KvOperation[], appendReturnsOld: boolean, appendReturnsLength: boolean): KvOperation[] {
  // An incr's output shows the value it added to, whatever wrote it: on a key that is counted, any
  // write may be seen, so none is dropped.
  // Conditional puts, times to live and transactions make outputs depend on any earlier write too.
  if (
    operations.some(({ input }) => input.op === 'incr' || input.op === 'multi' || input.condition !== undefined || input.ttlMs !== undefined || input.returnOld)
  )
    return [...operations]
  const observers = operations.filter((operation) => operation.output !== undefined && (operation.input.op === 'get' || appendReturnsOld))
  const appendedValues = operations.filter((operation) => operation.input.op === 'append').map((operation) => operation.input.value)
  // An observer returning at the very moment of the call counts: ties are concurrent (EventList).
  const seenAfter = (callMs: number, seen: (output: string) => boolean): boolean =>
    observers.some((observer) => observer.returnMs >= callMs && seen(observer.output?.value ?? ''))
  return operations.filter((operation) => {
    if (operation.returnMs !== Infinity) return true
    const { op, value } = operation.input
    if (op === 'get') return false
    // When appends report the new length, any write can show in a later append's output even if
    // its value is never read back: keep them all.
    if (appendReturnsLength) return true
    switch (op) {
      case 'put':
      case 'append':
        return seenAfter(operation.callMs, (output) => output.includes(value))
      case 'delete':
        return seenAfter(operation.callMs, (output) => output === '' || appendedValues.some((appended) => output.startsWith(appended)))
      case 'incr':
      case 'multi':
        return true
    }
  })
}
