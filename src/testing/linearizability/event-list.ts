// A partition's call and return events in time order, as a doubly linked list with a head sentinel.
// Linearizing an operation lifts its two events out of the list; backtracking puts them back in
// reverse order (dancing links), so both are O(1) and the list needs no copying.

import { assert } from '../../base/assert.js'
import type { Operation } from './types.js'

export const END = -1

export class EventList {
  /** Position of the sentinel; events occupy positions 1..2n. */
  readonly head = 0
  readonly next: Int32Array
  readonly prev: Int32Array
  /** The operation (index into the partition's operations) each event belongs to. */
  readonly operationOf: Int32Array
  /** For a call event, the position of its return event; END for a return event. */
  readonly returnOf: Int32Array

  constructor(operations: readonly Operation<unknown, unknown>[]) {
    const eventCount = operations.length * 2
    // Event e < n is the call of operation e; e >= n is the return of operation e - n.
    const order = Array.from({ length: eventCount }, (_, event) => event)
    const timeOf = (event: number): number => {
      const operation = operations[event % operations.length] as Operation<unknown, unknown>
      return event < operations.length ? operation.callMs : operation.returnMs
    }
    // At equal times calls sort first: operations that touch at an instant count as concurrent,
    // the reading that accepts more histories, since clocks cannot order them.
    order.sort((a, b) => timeOf(a) - timeOf(b) || Number(a >= operations.length) - Number(b >= operations.length) || a - b)

    const positions = eventCount + 1
    this.next = new Int32Array(positions)
    this.prev = new Int32Array(positions)
    this.operationOf = new Int32Array(positions).fill(END)
    this.returnOf = new Int32Array(positions).fill(END)
    const positionOfEvent = new Int32Array(eventCount)
    order.forEach((event, i) => {
      const position = i + 1
      positionOfEvent[event] = position
      this.operationOf[position] = event % operations.length
      this.prev[position] = position - 1
      this.next[position - 1] = position
    })
    this.next[eventCount] = END
    this.prev[this.head] = END
    for (let operation = 0; operation < operations.length; operation++) {
      const call = positionOfEvent[operation] as number
      const ret = positionOfEvent[operation + operations.length] as number
      assert(call < ret, () => `operation ${operation} returns before it is called`)
      this.returnOf[call] = ret
    }
  }

  isCall(position: number): boolean {
    return this.returnOf[position] !== END
  }

  /** Removes a call event and its return event. */
  lift(call: number): void {
    this.unlink(call)
    this.unlink(this.returnOf[call] as number)
  }

  /** Undoes the latest lift, which must have been of `call`. */
  unlift(call: number): void {
    this.relink(this.returnOf[call] as number)
    this.relink(call)
  }

  private unlink(position: number): void {
    const before = this.prev[position] as number
    const after = this.next[position] as number
    this.next[before] = after
    if (after !== END) this.prev[after] = before
  }

  private relink(position: number): void {
    const before = this.prev[position] as number
    const after = this.next[position] as number
    this.next[before] = position
    if (after !== END) this.prev[after] = position
  }
}
