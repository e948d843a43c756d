// The bounds on terms and indices that every node keeps and every message must respect.

/**
 * The largest term a node accepts or reaches: 2^48, far beyond any real cluster (a new term every
 * millisecond for 8,900 years) and far below 2^53, so incrementing a term can never lose precision.
 */
export const MAX_TERM = 2 ** 48

/** The largest index: the same bound, for the same reason. */
export const MAX_INDEX = 2 ** 48

/**
 * How far ahead of ours a message's term may be. Terms grow by one per election, and with pre-vote
 * a partitioned node does not grow its own at all; a jump of more than this is not an election.
 */
export const MAX_TERM_JUMP = 1_000_000
