// SCAN's cursor space: keys spread over a fixed number of buckets by a hash of the key, so a cursor
// is a bucket number that means the same on every replica and after any number of writes. A scan
// walks buckets in order; a key present from the first call to the last sits in one bucket the
// whole time and is returned exactly once, which is Redis's guarantee (its cursor bits differ).

/** 2^14 buckets: a full scan of an empty store is 16k steps, and large stores spread evenly. */
export const SCAN_BUCKETS = 1 << 14
const BUCKET_SHIFT = 32 - 14

/** The bucket of `key`: the top bits of its 32-bit FNV-1a hash (over its bytes, one per character). */
export function scanBucket(key: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> BUCKET_SHIFT
}

/** The keys of a store by SCAN bucket, kept up to date as keys come and go. */
export class ScanIndex {
  private readonly buckets: Array<Set<string> | undefined> = new Array<Set<string> | undefined>(SCAN_BUCKETS)

  /** An index of `keys`. */
  static of(keys: Iterable<string>): ScanIndex {
    const index = new ScanIndex()
    for (const key of keys) index.add(key)
    return index
  }

  /** Adds a key new to the store. */
  add(key: string): void {
    const bucket = scanBucket(key)
    let keys = this.buckets[bucket]
    if (!keys) {
      keys = new Set()
      this.buckets[bucket] = keys
    }
    keys.add(key)
  }

  /** Removes a key gone from the store. */
  delete(key: string): void {
    this.buckets[scanBucket(key)]?.delete(key)
  }

  /**
   * The keys of whole buckets from `cursor` on, until at least `count` were seen or `maxBuckets`
   * buckets were walked; and the cursor to go on from (0 once the last bucket is done).
   */
  walk(cursor: number, count: number, maxBuckets: number): { keys: string[]; next: number } {
    const keys: string[] = []
    let bucket = cursor
    const stop = Math.min(SCAN_BUCKETS, cursor + maxBuckets)
    while (bucket < stop && keys.length < count) {
      const held = this.buckets[bucket++]
      if (held) for (const key of held) keys.push(key)
    }
    return { keys, next: bucket >= SCAN_BUCKETS ? 0 : bucket }
  }
}
