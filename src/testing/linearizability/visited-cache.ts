// Lowe's memoisation for the Wing & Gong search: two search paths that have linearized the same set
// of operations and reached equivalent model states have the same future, so the second is cut.
//
// The linearized set is stored in a compact form that the event list gives for free. Let `first`
// be the earliest return event still in the list: every operation called before it is linearized
// except the ones whose calls are still in the list before it (the window), and no operation
// called after it can have been linearized yet. So (first, window) names the set exactly, in a
// few numbers rather than a bit per operation of the partition.

interface Visit {
  /** `first` followed by the window's call positions, in list order. */
  readonly frontier: readonly number[]
  readonly stateId: number
}

export class VisitedCache {
  private readonly buckets = new Map<number, Visit[]>()
  /**
   * State keys can be long and alike (a value grown by appends), so each distinct key is compared
   * in full once, here, and visits compare small numbers instead.
   */
  private readonly stateIds = new Map<string, number>()

  /** Records the configuration (frontier, state); false if it was seen. Copies `frontier`. */
  add(frontier: readonly number[], stateKey: string): boolean {
    let stateId = this.stateIds.get(stateKey)
    if (stateId === undefined) {
      stateId = this.stateIds.size
      this.stateIds.set(stateKey, stateId)
    }
    const hash = hashVisit(frontier, stateId)
    const visit = { frontier: frontier.slice(), stateId }
    const bucket = this.buckets.get(hash)
    if (bucket === undefined) {
      this.buckets.set(hash, [visit])
      return true
    }
    if (bucket.some((other) => other.stateId === stateId && samePositions(other.frontier, frontier))) return false
    bucket.push(visit)
    return true
  }
}

/** FNV-1a over the state id and positions, folded to 31 bits so the Map keys stay small integers. */
function hashVisit(frontier: readonly number[], stateId: number): number {
  let hash = Math.imul(0x811c9dc5 ^ stateId, 0x01000193)
  for (const position of frontier) hash = Math.imul(hash ^ position, 0x01000193)
  return hash >>> 1
}

function samePositions(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
