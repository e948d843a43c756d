// Converts the event-list form of a history (calls and returns in the order they happened) into
// operations. A call that never returns has an unknown outcome.

import { HistoryError } from './errors.js'
import type { HistoryEvent, Operation } from './types.js'

export function operationsFromEvents<Input, Output>(events: readonly HistoryEvent<Input, Output>[]): Operation<Input, Output>[] {
  const calls = new Map<number, { clientId: number; input: Input; callMs: number }>()
  const returned = new Map<number, { output: Output | undefined; returnMs: number }>()
  events.forEach((event, position) => {
    if (event.kind === 'call') {
      if (calls.has(event.id)) throw new HistoryError(`event ${position}: operation id ${event.id} is called twice`)
      calls.set(event.id, { clientId: event.clientId, input: event.input, callMs: position })
      return
    }
    if (!calls.has(event.id)) throw new HistoryError(`event ${position}: operation id ${event.id} returns before it is called`)
    if (returned.has(event.id)) throw new HistoryError(`event ${position}: operation id ${event.id} returns twice`)
    returned.set(event.id, { output: event.output, returnMs: position })
  })
  return [...calls].map(([id, call]) => {
    const result = returned.get(id) ?? { output: undefined, returnMs: Infinity }
    return { clientId: call.clientId, input: call.input, callMs: call.callMs, ...result }
  })
}
