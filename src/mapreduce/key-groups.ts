// Pairs grouped by key, for the combiner of a map task, a reduce task and the sequential run.
// A word count adds some twenty million pairs per 100 MB to such a table, nearly all ("the", "1"):
// so a group keeps its values as a run of one repeated value plus the rest, and builds the array
// reduce is handed only when it is asked for, instead of an array per key grown value by value
// (which cost more than the map itself). And a worker's tasks share one table in rounds, so a key
// seen in an earlier task is found, not inserted again with a new group. A group remembers which
// input of its round first gave it a value, so a combiner that fails on the key in a task of
// several files is charged to a file, as a failing map is.

/** One key's values, in the order they were added: `runCount` times `runValue`, then `rest`. */
export class ValueGroup {
  /** The round this group's values belong to; values of an older round are stale. */
  round: number
  /** The {@link KeyGroups.source} its first value of the round came from. */
  firstSource: number
  private runValue: string
  private runCount = 1
  private rest: string[] | null = null
  /** The key's ihash, once a map task has computed it (-1 before): keys keep their partition. */
  hash = -1
  /** The key as a JSON string, once a map task has encoded it. */
  json: string | null = null

  constructor(
    readonly key: string,
    value: string,
    round: number,
    source: number,
  ) {
    this.runValue = value
    this.round = round
    this.firstSource = source
  }

  get size(): number {
    return this.runCount + (this.rest?.length ?? 0)
  }

  add(value: string): void {
    if (this.rest === null && value === this.runValue) this.runCount++
    else (this.rest ??= []).push(value)
  }

  /** The values as a new array, which the caller may keep or change. */
  values(): string[] {
    const values = new Array<string>(this.runCount).fill(this.runValue)
    if (this.rest !== null) for (const value of this.rest) values.push(value)
    return values
  }

  /** Empties the group into a new round, holding `value` from `source`. */
  restart(value: string, round: number, source: number): void {
    this.runValue = value
    this.runCount = 1
    this.rest = null
    this.round = round
    this.firstSource = source
  }

  /** Lets go of the values (the key is remembered): a group waiting for its key to come back holds nothing big. */
  release(): void {
    this.runValue = ''
    this.rest = null
  }
}

/** Keys remembered between rounds at most; past this the table starts afresh. */
export const DEFAULT_MAX_REMEMBERED_KEYS = 262_144

/** Pairs grouped by key, in rounds: each round starts empty but finds the keys of earlier rounds. */
export class KeyGroups {
  private readonly table = new Map<string, ValueGroup>()
  private current: ValueGroup[] = []
  private round = 0
  private pairs = 0
  /** Where the pairs being added come from: a map task sets it to the index of the input it maps. */
  source = 0

  constructor(private readonly maxRememberedKeys = DEFAULT_MAX_REMEMBERED_KEYS) {}

  add(key: string, value: string): void {
    this.pairs++
    const group = this.table.get(key)
    if (group === undefined) {
      const added = new ValueGroup(key, value, this.round, this.source)
      this.table.set(key, added)
      this.current.push(added)
    } else if (group.round !== this.round) {
      group.restart(value, this.round, this.source)
      this.current.push(group)
    } else {
      group.add(value)
    }
  }

  /** This round's groups, in the order their keys first came. */
  groups(): readonly ValueGroup[] {
    return this.current
  }

  /** This round's groups by key, in the order of `<` on strings (UTF-16 code units), as the outputs are. */
  sortedGroups(): ValueGroup[] {
    return [...this.current].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  /** Pairs added in this round. */
  get pairCount(): number {
    return this.pairs
  }

  /** Ends the round: every group is empty again. */
  nextRound(): void {
    for (const group of this.current) group.release()
    this.current = []
    this.pairs = 0
    this.source = 0
    this.round++
    if (this.table.size > this.maxRememberedKeys) this.table.clear()
  }
}
