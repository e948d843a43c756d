// A membership change as a test harness makes it: through whichever node leads, retried (as an
// operator's tool would) across leader changes, lost proposals and a change still in flight,
// until it commits or time runs out. Shared by the Raft and replica-group harnesses.

import { MembershipChangeError } from '../raft/errors.js'
import { type MembershipChange, changeInEffect, describeChange } from '../raft/membership.js'
import type { MembershipState, RaftNode } from '../raft/node.js'
import { type Clock, sleep } from '../base/clock.js'

const RETRY_MS = 50

/** Thrown by the harnesses' changeMembership when the change has not committed within its time limit (virtual time in simulation). */
export class MembershipTimeoutError extends Error {
  readonly code = 'ERR_MEMBERSHIP_TIMEOUT'
}

/** `leaders()` lists the running nodes that may lead (those reachable, for a partitioned harness). */
export async function changeMembershipThroughLeader(
  leaders: () => readonly RaftNode[],
  clock: Clock,
  change: MembershipChange,
  timeoutMs: number,
): Promise<MembershipState> {
  const started = clock.now()
  let lastError: unknown = null
  while (clock.now() - started < timeoutMs) {
    const leader = leaders().find((node) => node.status().role === 'leader')
    if (leader) {
      try {
        return await leader.changeMembership(change)
      } catch (error) {
        lastError = error
        // A retry of a change that committed unseen finds it made; otherwise "invalid" is final, and
        // everything else (in flight, overwritten, not leader, timeout) is worth a retry.
        const members = leader.members()
        if (members.committed && changeInEffect(members.configuration, change)) return members
        if (error instanceof MembershipChangeError && !/not committed yet|overwritten/.test(error.message)) throw error
      }
    }
    await sleep(clock, RETRY_MS)
  }
  throw new MembershipTimeoutError(`${describeChange(change)} did not commit within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`)
}
