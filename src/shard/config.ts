// Shard configurations: which replica group serves each shard, numbered in sequence. The
// rebalancing here is pure and deterministic, so every controller replica computes the same
// configuration, and it is minimal: only the shards that must move to even out the load move.

/** The shard count of a deployment that sets none; the controller, every group and every clerk must agree on it. */
export const DEFAULT_SHARD_COUNT = 10

/** gid 0 means "no group": a shard assigned to 0 is served by nobody. */
export const NO_GROUP = 0

/** One numbered configuration of a sharded deployment: which replica group serves each shard. */
export interface ShardConfig {
  /** Numbers go up by one with each change; configuration 0 assigns every shard to no group. */
  readonly num: number
  /** shards[i] is the gid serving shard i. */
  readonly shards: readonly number[]
  /** Servers of each group, by gid. */
  readonly groups: Readonly<Record<number, readonly string[]>>
}

export function initialConfig(shardCount: number): ShardConfig {
  return { num: 0, shards: Array.from({ length: shardCount }, () => NO_GROUP), groups: {} }
}

export type KeyToShard = (key: string, shardCount: number) => number

/** The lab's mapping: the key's first byte modulo the shard count (the empty key is shard 0). */
export const firstByteShard: KeyToShard = (key, shardCount) => (key.length === 0 ? 0 : key.charCodeAt(0) % shardCount)

/** A hash of the whole key (32-bit FNV-1a), for even spreading of keys that share a first byte. */
export const hashShard: KeyToShard = (key, shardCount) => {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i) & 0xff
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % shardCount
}

export function groupIds(config: ShardConfig): number[] {
  return Object.keys(config.groups)
    .map(Number)
    .sort((a, b) => a - b)
}

/**
 * Assigns every shard to one of `gids`, moving as few as possible: groups that hold the most shards
 * keep the extra ones when the count does not divide evenly; shards of groups that are gone, and
 * the excess of groups over their share, go (lowest shard first) to the groups under theirs.
 */
export function rebalance(shards: readonly number[], gids: readonly number[]): number[] {
  if (gids.length === 0) return shards.map(() => NO_GROUP)
  const sortedGids = [...gids].sort((a, b) => a - b)
  const held = new Map<number, number[]>(sortedGids.map((gid) => [gid, []]))
  const pool: number[] = []
  shards.forEach((gid, shard) => {
    const list = held.get(gid)
    if (list) list.push(shard)
    else pool.push(shard)
  })
  const base = Math.floor(shards.length / sortedGids.length)
  const extra = shards.length % sortedGids.length
  const byLoad = [...sortedGids].sort((a, b) => (held.get(b) as number[]).length - (held.get(a) as number[]).length || a - b)
  const target = new Map(byLoad.map((gid, rank) => [gid, base + (rank < extra ? 1 : 0)]))
  for (const gid of byLoad) {
    const list = held.get(gid) as number[]
    list.sort((a, b) => a - b)
    while (list.length > (target.get(gid) as number)) pool.push(list.pop() as number)
  }
  pool.sort((a, b) => a - b)
  const result = [...shards]
  for (const gid of sortedGids) {
    const list = held.get(gid) as number[]
    while (list.length < (target.get(gid) as number)) {
      const shard = pool.shift() as number
      list.push(shard)
    }
    for (const shard of list) result[shard] = gid
  }
  return result
}
