// Wing & Gong's linearizability search with Lowe's memoisation, over one partition. Depth-first:
// walk the events from the front and linearize the first called operation the model accepts;
// when the walk reaches the return of an operation not yet linearized, nothing before it can go
// next, so undo the latest choice and walk on from it. A configuration (linearized set, state)
// is explored at most once.

import { assert } from '../../base/assert.js'
import { END, EventList } from './event-list.js'
import type { Model, Operation } from './types.js'
import { VisitedCache } from './visited-cache.js'

/** Reading the clock costs more than a step, so the deadline is checked every this many steps. */
const STEPS_PER_DEADLINE_CHECK = 1024
/** A position meaning "this configuration is a dead end: undo the latest choice". */
const BACKTRACK = -2

export type SearchResult =
  | { readonly outcome: 'ok' | 'timeout' }
  /** `deepest`: operation indices of the longest partial linearization found, in order. */
  | { readonly outcome: 'illegal'; readonly deepest: readonly number[] }

export function searchPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  deadlineMs: number,
): SearchResult {
  return new Search(model, operations).run(deadlineMs)
}

class Search<State, Input, Output> {
  private readonly events: EventList
  private readonly visited = new VisitedCache()
  private readonly scratchFrontier: number[] = []
  private readonly readOnly: boolean[]
  /** The linearization so far: call positions, whether each was forced, and the state before it. */
  private readonly chosenCalls: number[] = []
  private readonly forced: boolean[] = []
  private readonly statesBefore: State[] = []
  private state: State
  /**
   * Operations with an unknown outcome may never have taken effect, so the search is done once
   * every operation with a known outcome is linearized.
   */
  private knownLeft: number
  private deepest: number[] = []
  private deeperSinceRecorded = false

  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly operations: readonly Operation<Input, Output>[],
  ) {
    this.events = new EventList(operations)
    this.readOnly = operations.map((operation) => model.readOnly?.(operation.input) ?? false)
    this.state = model.init()
    this.knownLeft = operations.filter((operation) => operation.returnMs !== Infinity).length
  }

  run(deadlineMs: number): SearchResult {
    const { events } = this
    let steps = 0
    let position = this.descend()
    while (this.knownLeft > 0) {
      if (++steps % STEPS_PER_DEADLINE_CHECK === 0 && performance.now() > deadlineMs) return { outcome: 'timeout' }
      if (position === BACKTRACK) {
        const resumeAfter = this.backtrack()
        if (resumeAfter === undefined) return { outcome: 'illegal', deepest: this.deepest }
        position = events.next[resumeAfter] as number
        continue
      }
      // Unknown outcomes return at Infinity, after every known one, so a known return comes first.
      assert(position !== END, 'linearizability search ran off the end of the event list')
      if (!events.isCall(position)) {
        position = BACKTRACK
        continue
      }
      const index = events.operationOf[position] as number
      // descend() has linearized every read the state allows, so no read can go next here.
      if (!this.readOnly[index]) {
        const operation = this.operations[index] as Operation<Input, Output>
        const next = this.model.step(this.state, operation.input, operation.output)
        if (next.ok && this.linearize(position, next.state, false)) {
          position = this.descend()
          continue
        }
      }
      position = events.next[position] as number
    }
    return { outcome: 'ok' }
  }

  /**
   * Enters the configuration just reached by linearizing every callable read its state allows,
   * without branching (see Model.readOnly), and returns where the walk for the next choice
   * starts; BACKTRACK if a forced read leads to a configuration already explored.
   */
  private descend(): number {
    const { events } = this
    let position = events.next[events.head] as number
    while (this.knownLeft > 0 && position !== END && events.isCall(position)) {
      const index = events.operationOf[position] as number
      if (this.readOnly[index]) {
        const operation = this.operations[index] as Operation<Input, Output>
        const next = this.model.step(this.state, operation.input, operation.output)
        if (next.ok) {
          if (!this.linearize(position, next.state, true)) return BACKTRACK
          position = events.next[events.head] as number
          continue
        }
      }
      position = events.next[position] as number
    }
    return events.next[events.head] as number
  }

  /** Makes the operation called at `call` the next in the linearization, unless already explored. */
  private linearize(call: number, stateAfter: State, forced: boolean): boolean {
    this.events.lift(call)
    if (!this.visited.add(this.frontier(), this.model.key(stateAfter))) {
      this.events.unlift(call)
      return false
    }
    this.chosenCalls.push(call)
    this.forced.push(forced)
    this.statesBefore.push(this.state)
    this.state = stateAfter
    const index = this.events.operationOf[call] as number
    if ((this.operations[index] as Operation<Input, Output>).returnMs !== Infinity) this.knownLeft--
    this.deeperSinceRecorded ||= this.chosenCalls.length > this.deepest.length
    return true
  }

  /**
   * The linearized set in VisitedCache's compact form (the first return and the calls before it),
   * in an array reused between calls: most configurations tried were seen before and are dropped.
   */
  private frontier(): number[] {
    const { events, scratchFrontier } = this
    scratchFrontier.length = 1
    let position = events.next[events.head] as number
    for (; position !== END && events.isCall(position); position = events.next[position] as number) scratchFrontier.push(position)
    scratchFrontier[0] = position
    return scratchFrontier
  }

  /**
   * Undoes the latest free choice and the forced reads after it, and returns the call position
   * of that choice; undefined when there is nothing left to undo. A forced read is never the
   * reason for a dead end (if any order works, one with the read there does), so undoing it
   * alone would only repeat the failure.
   */
  private backtrack(): number | undefined {
    // Recording only when about to backtrack keeps the forward path free of O(depth) copies.
    if (this.deeperSinceRecorded) {
      this.deepest = this.chosenCalls.map((call) => this.events.operationOf[call] as number)
      this.deeperSinceRecorded = false
    }
    for (;;) {
      const call = this.chosenCalls.pop()
      if (call === undefined) return undefined
      const wasForced = this.forced.pop()
      this.state = this.statesBefore.pop() as State
      const index = this.events.operationOf[call] as number
      if ((this.operations[index] as Operation<Input, Output>).returnMs !== Infinity) this.knownLeft++
      this.events.unlift(call)
      if (wasForced === false) return call
    }
  }
}
