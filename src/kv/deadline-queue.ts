// Which key expires next: a binary min-heap of (deadline, key). A key given a new deadline is
// pushed again rather than moved, so the heap may hold stale pairs; callers say which pairs are
// current, and stale ones are dropped when they reach the top.

interface Due {
  readonly at: number
  readonly key: string
}

export class DeadlineQueue {
  private readonly heap: Due[] = []

  push(at: number, key: string): void {
    const heap = this.heap
    heap.push({ at, key })
    let child = heap.length - 1
    while (child > 0) {
      const parent = (child - 1) >> 1
      if ((heap[parent] as Due).at <= at) break
      heap[child] = heap[parent] as Due
      child = parent
    }
    heap[child] = { at, key }
  }

  /** The earliest current deadline, dropping stale pairs from the top; null if none. */
  earliest(isCurrent: (at: number, key: string) => boolean): number | null {
    for (;;) {
      const top = this.heap[0]
      if (top === undefined) return null
      if (isCurrent(top.at, top.key)) return top.at
      this.pop()
    }
  }

  /**
   * Up to `max` distinct keys with current deadlines at or before `timeMs`, without removing them
   * (they leave the heap once their purge has applied and they are stale). Visits only pairs due by
   * then and their children, so the cost follows what is due, not the heap's size.
   */
  dueBy(timeMs: number, max: number, isCurrent: (at: number, key: string) => boolean): string[] {
    const keys = new Set<string>()
    const pending = [0]
    while (pending.length > 0 && keys.size < max) {
      const index = pending.pop() as number
      const due = this.heap[index]
      if (due === undefined || due.at > timeMs) continue
      if (isCurrent(due.at, due.key)) keys.add(due.key)
      pending.push(2 * index + 1, 2 * index + 2)
    }
    return [...keys]
  }

  private pop(): void {
    const heap = this.heap
    const last = heap.pop() as Due
    if (heap.length === 0) return
    let parent = 0
    for (;;) {
      const left = 2 * parent + 1
      if (left >= heap.length) break
      const right = left + 1
      const smaller = right < heap.length && (heap[right] as Due).at < (heap[left] as Due).at ? right : left
      if ((heap[smaller] as Due).at >= last.at) break
      heap[parent] = heap[smaller] as Due
      parent = smaller
    }
    heap[parent] = last
  }
}
