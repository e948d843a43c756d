// The checks every incoming Raft message passes at the driver's door, before the core sees it: the
// sender is who the message says it is (the transport authenticated the connection), and every
// term, index and length is within range and plausible. A message that fails is refused whole; no
// field of it is acted on or persisted, so no message, however forged, can store a value that
// crashes the node later (a term of 2^53 - 1, say, one election away from unsafe integers).

import { EntryType, type AppendEntriesRequest, type InstallSnapshotRequest, type RequestVoteRequest, type TimeoutNowRequest } from './types.js'

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

/** Largest snapshot byte offset accepted: snapshots larger than 2^40 bytes are not ours. */
const MAX_SNAPSHOT_OFFSET = 2 ** 40

const KNOWN_ENTRY_TYPES: ReadonlySet<number> = new Set(Object.values(EntryType))

/** Null if the message may go to the core, else why not. */
export type Verdict = string | null

function checkTerm(term: number, currentTerm: number): Verdict {
  if (!Number.isSafeInteger(term) || term < 0 || term > MAX_TERM) return `term ${term} is out of range (0..${MAX_TERM})`
  if (term > currentTerm + MAX_TERM_JUMP) return `term ${term} jumps more than ${MAX_TERM_JUMP} past ours (${currentTerm})`
  return null
}

function checkIndex(name: string, index: number): Verdict {
  return Number.isSafeInteger(index) && index >= 0 && index <= MAX_INDEX ? null : `${name} ${index} is out of range (0..${MAX_INDEX})`
}

function checkSender(claimed: string, from: string, role: string): Verdict {
  return claimed === from ? null : `${role} ${JSON.stringify(claimed)} is not the sender (${from})`
}

function firstProblem(...verdicts: Verdict[]): Verdict {
  return verdicts.find((verdict) => verdict !== null) ?? null
}

export function checkRequestVote(request: RequestVoteRequest, from: string, currentTerm: number): Verdict {
  return firstProblem(
    checkSender(request.candidateId, from, 'candidate'),
    checkTerm(request.term, currentTerm),
    checkIndex('last log index', request.lastLogIndex),
    checkIndex('last log term', request.lastLogTerm),
    request.lastLogTerm > request.term ? `last log term ${request.lastLogTerm} is past the candidate's term ${request.term}` : null,
  )
}

export function checkAppendEntries(request: AppendEntriesRequest, from: string, currentTerm: number): Verdict {
  const basic = firstProblem(
    checkSender(request.leaderId, from, 'leader'),
    checkTerm(request.term, currentTerm),
    checkIndex('previous log index', request.prevLogIndex),
    checkIndex('previous log term', request.prevLogTerm),
    checkIndex('leader commit', request.leaderCommit),
    checkIndex('read round', request.readRound),
    request.prevLogTerm > request.term ? `previous log term ${request.prevLogTerm} is past the leader's term ${request.term}` : null,
    request.prevLogIndex + request.entries.length > MAX_INDEX ? `entries run past index ${MAX_INDEX}` : null,
  )
  if (basic !== null) return basic
  let previousTerm = request.prevLogTerm
  for (const [offset, entry] of request.entries.entries()) {
    const index = request.prevLogIndex + 1 + offset
    if (!Number.isSafeInteger(entry.term) || entry.term < previousTerm || entry.term > request.term) {
      return `entry ${index} has term ${entry.term}, outside ${previousTerm}..${request.term}`
    }
    if (!KNOWN_ENTRY_TYPES.has(entry.type)) return `entry ${index} has an unknown type ${entry.type}`
    previousTerm = entry.term
  }
  return null
}

export function checkInstallSnapshot(request: InstallSnapshotRequest, from: string, currentTerm: number): Verdict {
  return firstProblem(
    checkSender(request.leaderId, from, 'leader'),
    checkTerm(request.term, currentTerm),
    checkIndex('last included index', request.lastIncludedIndex),
    checkIndex('last included term', request.lastIncludedTerm),
    request.lastIncludedTerm > request.term ? `last included term ${request.lastIncludedTerm} is past the leader's term ${request.term}` : null,
    Number.isSafeInteger(request.offset) && request.offset >= 0 && request.offset <= MAX_SNAPSHOT_OFFSET ? null : `offset ${request.offset} is out of range`,
  )
}

export function checkTimeoutNow(request: TimeoutNowRequest, from: string, currentTerm: number): Verdict {
  return firstProblem(checkSender(request.leaderId, from, 'leader'), checkTerm(request.term, currentTerm))
}

/** A reply's term: the same bounds as a request's. */
export function checkReplyTerm(term: number, currentTerm: number): Verdict {
  return checkTerm(term, currentTerm)
}

/** An AppendEntries reply may not claim to match more than the request carried. */
export function checkAppendReply(
  reply: { term: number; success: boolean; matchIndex: number; conflictIndex: number; conflictTerm: number },
  request: AppendEntriesRequest,
  currentTerm: number,
): Verdict {
  const sentUpTo = request.prevLogIndex + request.entries.length
  return firstProblem(
    checkTerm(reply.term, currentTerm),
    checkIndex('match index', reply.matchIndex),
    checkIndex('conflict index', reply.conflictIndex),
    checkIndex('conflict term', reply.conflictTerm),
    reply.success && reply.matchIndex > sentUpTo ? `match index ${reply.matchIndex} is past what was sent (${sentUpTo})` : null,
  )
}

/**
 * A term has at most one leader (Election Safety). A message from a second "leader" of a term
 * whose leader this node already knows is forged or a bug, never to be followed.
 */
export function checkLeaderOfTerm(term: number, leaderId: string, status: { term: number; leaderId: string | null }): Verdict {
  if (term !== status.term || status.leaderId === null || status.leaderId === leaderId) return null
  return `term ${term} already has leader ${status.leaderId}, not ${leaderId}`
}
