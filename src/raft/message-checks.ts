// The checks every incoming Raft message passes at the driver's door, before the core sees it: the
// sender is who the message says it is (the transport authenticated the connection), and every
// term, index and length is within range and plausible. A message that fails is refused whole; no
// field of it is acted on or persisted, so no message, however forged, can store a value that
// crashes the node later (a term of 2^53 - 1, say, one election away from unsafe integers).

import { configurationCodec } from './configuration-codec.js'
import { MAX_INDEX, MAX_TERM, MAX_TERM_JUMP } from './limits.js'
import {
  EntryType,
  type AppendEntriesRequest,
  type InstallSnapshotRequest,
  type ReadIndexReply,
  type ReadIndexRequest,
  type RequestVoteRequest,
  type TimeoutNowRequest,
} from './types.js'

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
    if (entry.type === EntryType.Configuration && !decodes(entry.data)) return `entry ${index} is not a configuration`
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
    decodes(request.configuration) ? null : 'its configuration does not decode',
  )
}

/** Whether `bytes` is a configuration the core can take (the core trusts what passed this door). */
function decodes(bytes: Uint8Array): boolean {
  try {
    configurationCodec.decode(bytes)
    return true
  } catch {
    return false // The caller refuses the message, saying which part.
  }
}

export function checkTimeoutNow(request: TimeoutNowRequest, from: string, currentTerm: number): Verdict {
  return firstProblem(checkSender(request.leaderId, from, 'leader'), checkTerm(request.term, currentTerm))
}

export function checkReadIndexRequest(request: ReadIndexRequest, from: string, currentTerm: number): Verdict {
  return firstProblem(checkSender(request.followerId, from, 'follower'), checkTerm(request.term, currentTerm), checkIndex('read round', request.readRoundHeard))
}

/** A read point the leader gives: a plausible index, from a term no older than the ask's. */
export function checkReadIndexReply(reply: ReadIndexReply, askedInTerm: number, currentTerm: number): Verdict {
  return firstProblem(
    checkTerm(reply.term, currentTerm),
    checkIndex('read index', reply.readIndex),
    checkIndex('read round', reply.readRound),
    reply.readTerm > reply.term ? `read term ${reply.readTerm} is past the reply's term ${reply.term}` : null,
    reply.term < askedInTerm ? `term ${reply.term} is older than the ask's (${askedInTerm})` : null,
  )
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
