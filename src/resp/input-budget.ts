// The server-wide bound on client input held in memory (maxTotalInputBytes): every connection
// holds a share, resized as its input arrives and its commands finish. A connection whose share
// would take the total over the bound is refused the growth (and then closed by its owner), so
// many clients each sending a large value slowly cannot together exhaust the node's memory.

import { assert } from '../base/assert.js'

export class InputBudget {
  private heldBytes = 0

  constructor(readonly maxBytes: number) {}

  /** Bytes held by all connections together. */
  get usedBytes(): number {
    return this.heldBytes
  }

  /**
   * Changes one connection's share from `fromBytes` to `toBytes`. Shrinking always succeeds;
   * growing returns false, and changes nothing, when the total would exceed maxBytes.
   */
  resize(fromBytes: number, toBytes: number): boolean {
    const next = this.heldBytes - fromBytes + toBytes
    if (toBytes > fromBytes && next > this.maxBytes) return false
    assert(next >= 0, () => `input budget below zero: ${this.heldBytes} - ${fromBytes} + ${toBytes}`)
    this.heldBytes = next
    return true
  }
}
