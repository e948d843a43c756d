// Majority arithmetic for a fixed set of voting members.

/** Votes needed to win: a strict majority of `memberCount`. */
export function quorumSize(memberCount: number): number {
  return Math.floor(memberCount / 2) + 1
}

/** The highest index that at least a quorum of `matchIndexes` (one per member) has reached. */
export function quorumIndex(matchIndexes: readonly number[]): number {
  const sorted = [...matchIndexes].sort((a, b) => b - a)
  return sorted[quorumSize(matchIndexes.length) - 1] ?? 0
}
