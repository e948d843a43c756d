// Records the history a set of clients observes, for the checker. A client calls begin() before
// sending a request and end() when the reply arrives, or giveUp() when it stops waiting without
// knowing whether the request took effect.

import { assert } from '../../base/assert.js'
import type { Operation } from './types.js'

/** An operation begun and not yet settled: settle it exactly once, with end or giveUp. */
export interface PendingOperation<Output> {
  /** The reply arrived at `nowMs` with `output` (undefined when the operation returns nothing). */
  end(output: Output | undefined, nowMs: number): void
  /** The outcome is unknown: the operation may take effect at any later time, or never. */
  giveUp(): void
}

interface Slot<Input, Output> {
  readonly clientId: number
  readonly input: Input
  readonly callMs: number
  output: Output | undefined
  returnMs: number
  settled: boolean
}

/**
 * Records the history a set of clients observe, for checkOperations. Times are whatever clock the
 * clients share (in simulation, the world's `clock.now()`), in ms.
 */
export class HistoryRecorder<Input, Output> {
  private readonly slots: Slot<Input, Output>[] = []

  /**
   * Client `clientId` is about to send `input`, at `nowMs`: call it before sending the request.
   * Settling the operation twice, or ending it at a time before `nowMs`, throws.
   */
  begin(clientId: number, input: Input, nowMs: number): PendingOperation<Output> {
    assert(Number.isFinite(nowMs), () => `client ${clientId} began an operation at a non-finite time ${nowMs}`)
    const slot: Slot<Input, Output> = { clientId, input, callMs: nowMs, output: undefined, returnMs: Infinity, settled: false }
    this.slots.push(slot)
    const settle = (): void => {
      assert(!slot.settled, () => `client ${clientId}'s operation called at ${slot.callMs} ms was ended twice`)
      slot.settled = true
    }
    return {
      end(output, endMs) {
        settle()
        assert(Number.isFinite(endMs) && endMs >= slot.callMs, () => `client ${clientId}'s operation called at ${slot.callMs} ms cannot end at ${endMs} ms`)
        slot.output = output
        slot.returnMs = endMs
      },
      giveUp: settle,
    }
  }

  /** Everything recorded so far; an operation still pending counts as having an unknown outcome. */
  operations(): Operation<Input, Output>[] {
    return this.slots.map(({ clientId, input, output, callMs, returnMs }) => ({ clientId, input, output, callMs, returnMs }))
  }
}
