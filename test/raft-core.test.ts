// The pure Raft core on its own: scenarios driven message by message, with no network, storage or
// clock, as etcd-io/raft tests its state machine.
import t from 'tap'
import { configurationCodec } from '../src/raft/configuration-codec.js'
import { RaftCore } from '../src/raft/core.js'
import { configurationOf } from '../src/raft/membership.js'
import type { AppendEntriesRequest, RaftCoreOptions } from '../src/raft/types.js'

function core(id: string, options: Partial<RaftCoreOptions> & { members?: readonly string[]; learners?: readonly string[] } = {}, term = 0): RaftCore {
  const { members = ['a', 'b', 'c'], learners = [], ...coreOptions } = options
  const learnerMembers = learners.map((learner) => ({ id: learner, address: '', promoteWhenCaughtUp: false }))
  return new RaftCore(
    {
      id,
      configurationCodec,
      promoteLagEntries: 10,
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
      leaseTicks: 0,
      maxAppendEntries: 100,
      maxAppendBytes: 1 << 20,
      maxInflightAppends: 8,
      random: () => 0,
      ...coreOptions,
    },
    {
      hardState: { term, votedFor: null, commitIndex: 0 },
      snapshotIndex: 0,
      snapshotTerm: 0,
      configuration: { ...configurationOf(members), learners: learnerMembers },
      entries: [],
    },
  )
}

function heartbeat(term: number, leaderId: string): AppendEntriesRequest {
  return { term, leaderId, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0, lostState: false }
}

const entry = (term: number) => ({ term, type: 0, data: new Uint8Array() })

t.test('a follower in its leader lease ignores a vote request for a higher term', async (t) => {
  const follower = core('b', {}, 3)
  follower.handleAppendEntries({ ...heartbeat(3, 'a'), entries: [entry(3)] })
  const reply = follower.handleRequestVote({ term: 9, candidateId: 'c', lastLogIndex: 5, lastLogTerm: 3, preVote: false, transfer: false })
  t.notOk(reply.granted, 'vote refused')
  t.equal(follower.status().term, 3, 'term unchanged')
  const transfer = follower.handleRequestVote({ term: 4, candidateId: 'c', lastLogIndex: 5, lastLogTerm: 3, preVote: false, transfer: true })
  t.ok(transfer.granted, 'a leader-transfer candidate is heard despite the lease')
  t.equal(follower.status().term, 4)
})

t.test('without check-quorum there is no lease: the higher term wins the vote', async (t) => {
  const follower = core('b', { checkQuorum: false }, 3)
  follower.handleAppendEntries({ ...heartbeat(3, 'a'), entries: [entry(3)] })
  const reply = follower.handleRequestVote({ term: 9, candidateId: 'c', lastLogIndex: 5, lastLogTerm: 3, preVote: false, transfer: false })
  t.ok(reply.granted)
  t.equal(follower.status().term, 9)
})

t.test('a pre-vote never changes the voter’s term or vote', async (t) => {
  const voter = core('b', {}, 2)
  const reply = voter.handleRequestVote({ term: 3, candidateId: 'c', lastLogIndex: 0, lastLogTerm: 0, preVote: true, transfer: false })
  t.ok(reply.granted, 'an up-to-date pre-candidate gets the pre-vote')
  t.equal(voter.status().term, 2, 'term unchanged')
  t.equal(voter.takePersistence(), null, 'nothing to persist')
})

t.test('a candidate counts its own vote only once it is durable', async (t) => {
  const candidate = core('a', { preVote: false, members: ['a'] })
  for (let i = 0; i < 20; i++) candidate.tick()
  t.equal(candidate.status().role, 'candidate', 'campaigning')
  const work = candidate.takePersistence()
  t.ok(work && work.hardState?.votedFor === 'a', 'the vote for itself is handed to storage')
  t.equal(candidate.status().role, 'candidate', 'not leader before the vote is durable')
  if (work) candidate.persisted(work)
  t.equal(candidate.status().role, 'leader', 'leader once it is')
})

t.test('a follower rejects a mismatched append with a hint that skips the whole conflicting term', async (t) => {
  const follower = core('b', {}, 1)
  const entries = [1, 1, 2, 2, 2].map((term) => ({ term, type: 0, data: new Uint8Array() }))
  t.ok(follower.handleAppendEntries({ ...heartbeat(2, 'a'), entries }).success)
  const reply = follower.handleAppendEntries({ ...heartbeat(3, 'c'), prevLogIndex: 5, prevLogTerm: 3 })
  t.notOk(reply.success)
  t.same({ conflictIndex: reply.conflictIndex, conflictTerm: reply.conflictTerm }, { conflictIndex: 3, conflictTerm: 2 })
  const short = follower.handleAppendEntries({ ...heartbeat(3, 'c'), prevLogIndex: 9, prevLogTerm: 3 })
  t.same({ conflictIndex: short.conflictIndex, conflictTerm: short.conflictTerm }, { conflictIndex: 6, conflictTerm: 0 })
})

t.test('a stale, reordered append never shortens the log', async (t) => {
  const follower = core('b', {}, 1)
  follower.handleAppendEntries({ ...heartbeat(1, 'a'), entries: [entry(1), entry(1), entry(1)] })
  const stale = follower.handleAppendEntries({ ...heartbeat(1, 'a'), entries: [entry(1)] })
  t.ok(stale.success)
  t.equal(follower.status().lastIndex, 3, 'entries 2 and 3 are kept')
})

t.test('an empty log votes only for a candidate with an empty log: it cannot judge one that has entries', async (t) => {
  const fresh = core('b', { checkQuorum: false }, 0)
  t.ok(
    fresh.handleRequestVote({ term: 1, candidateId: 'a', lastLogIndex: 0, lastLogTerm: 0, preVote: true, transfer: false }).granted,
    'a first election goes ahead',
  )
  const refused = fresh.handleRequestVote({ term: 7, candidateId: 'c', lastLogIndex: 40, lastLogTerm: 6, preVote: false, transfer: false })
  t.notOk(refused.granted, 'no vote for a candidate with a log')
  t.equal(fresh.status().term, 7, 'the term is still learned')
  t.notOk(fresh.handleRequestVote({ term: 8, candidateId: 'c', lastLogIndex: 40, lastLogTerm: 6, preVote: true, transfer: false }).granted, 'nor a pre-vote')
  fresh.handleAppendEntries({ ...heartbeat(8, 'c'), entries: [entry(6)] })
  t.ok(
    fresh.handleRequestVote({ term: 9, candidateId: 'a', lastLogIndex: 40, lastLogTerm: 6, preVote: false, transfer: false }).granted,
    'once a leader gave it a log, it votes',
  )
})

t.test('a voter that voted in the first election and missed the first entries still votes (a quorum need not wait for them)', async (t) => {
  // Five founders vote in term 1 with empty logs; the leader commits entry 1 on three of them and is
  // cut off. The two without the entry must be able to elect one of the two others, or the cluster
  // stays leaderless until the old leader returns (the lab's Figure8Unreliable found this).
  const missed = core('d', { checkQuorum: false, members: ['a', 'b', 'c', 'd', 'e'] }, 0)
  t.ok(
    missed.handleRequestVote({ term: 1, candidateId: 'a', lastLogIndex: 0, lastLogTerm: 0, preVote: false, transfer: false }).granted,
    'votes in the first election',
  )
  const granted = missed.handleRequestVote({ term: 2, candidateId: 'b', lastLogIndex: 1, lastLogTerm: 1, preVote: false, transfer: false })
  t.ok(granted.granted, 'and later for a candidate with a log')
})

t.test('a voter whose store began empty does not vote for a candidate with a log until it has one (it may have been wiped)', async (t) => {
  const blank = core('d', { checkQuorum: false, members: ['a', 'b', 'c', 'd', 'e'] }, 0)
  t.notOk(blank.handleRequestVote({ term: 5, candidateId: 'b', lastLogIndex: 3, lastLogTerm: 2, preVote: false, transfer: false }).granted)
})

/** A leader 'a' of term 1 with followers 'b' and 'c' (or `members`), entries 1..3 proposed and acknowledged by all of them. */
function leaderWithAckedFollowers(options: Partial<RaftCoreOptions> & { members?: readonly string[]; learners?: readonly string[] } = {}) {
  const leader = core('a', { preVote: false, ...options })
  for (let i = 0; i < 20 && leader.status().role !== 'candidate'; i++) leader.tick()
  const vote = leader.takePersistence()
  if (vote) leader.persisted(vote)
  for (const message of leader.takeMessages()) {
    if (message.kind === 'vote') leader.onVoteReply(message.to, message.request, { term: message.request.term, granted: true })
  }
  for (let i = 0; i < 3; i++) leader.propose(new Uint8Array([i]))
  for (let round = 0; round < 10; round++) {
    const work = leader.takePersistence()
    if (work) leader.persisted(work)
    for (const message of leader.takeMessages()) {
      if (message.kind !== 'append') continue
      const sent = message.request.prevLogIndex + message.request.entries.length
      leader.onAppendReply(message.to, message.request, { term: 1, success: true, matchIndex: sent, conflictIndex: 0, conflictTerm: 0 })
    }
  }
  return leader
}

t.test('a follower that rejects what it had acknowledged lost its state: the leader stops counting it and tells it so', async (t) => {
  const leader = leaderWithAckedFollowers()
  t.equal(leader.status().role, 'leader')
  t.equal(leader.status().commitIndex, 3, 'entries 1..3 committed with both followers')
  leader.takeMessages()
  for (let i = 0; i < 2; i++) leader.tick()
  const heartbeats = leader.takeMessages().filter((message) => message.kind === 'append')
  const toB = heartbeats.find((message) => message.to === 'b')
  if (!toB || toB.kind !== 'append') throw new Error('no heartbeat to b')
  t.equal(toB.request.prevLogIndex, 3, 'heartbeats go at the acknowledged match')

  // b's data was wiped: its log is empty now.
  leader.onAppendReply('b', toB.request, { term: 1, success: false, matchIndex: 0, conflictIndex: 1, conflictTerm: 0 })

  const notice = leader.takeMessages().find((message) => message.to === 'b')
  t.match(notice, { kind: 'append', request: { lostState: true, entries: [] }, lost: { acknowledgedIndex: 3, foundLastIndex: 0 } })
  t.notOk(leader.transferLeadership('b'), 'leadership is not handed to it')
  leader.propose(new Uint8Array([9]))
  const work = leader.takePersistence()
  if (work) leader.persisted(work)
  for (const message of leader.takeMessages()) {
    if (message.kind === 'append' && message.to === 'b') {
      t.ok(message.request.lostState, 'b is sent only the notice')
      leader.onAppendReply('b', message.request, { term: 1, success: true, matchIndex: 4, conflictIndex: 0, conflictTerm: 0 })
    }
  }
  t.equal(leader.status().commitIndex, 3, 'entry 4 is not committed on the word of the lost follower')
})

t.test('a rejection of an append sent before the follower acknowledged is stale, not lost state', async (t) => {
  const leader = leaderWithAckedFollowers()
  const stale = { ...heartbeat(1, 'a'), prevLogIndex: 2, prevLogTerm: 1 }
  leader.onAppendReply('b', stale, { term: 1, success: false, matchIndex: 0, conflictIndex: 1, conflictTerm: 0 })
  t.notOk(
    leader.takeMessages().some((message) => message.kind === 'append' && message.request.lostState),
    'no notice',
  )
})

t.test('a follower’s ask for a read point is itself the acknowledgement a 3-voter leader needs: no heartbeat round', async (t) => {
  const leader = leaderWithAckedFollowers()
  leader.takeMessages()
  leader.takeReadOutcomes()

  leader.requestRead(1, { asker: 'b', term: 1, readRoundHeard: 0 })
  t.same(leader.takeReadOutcomes(), [{ id: 1, index: 3 }], 'confirmed at once at the commit index')
  t.same(leader.takeMessages(), [], 'no heartbeat was sent for it')

  leader.requestRead(2)
  t.same(leader.takeReadOutcomes(), [], 'the leader’s own read waits for a round')
  t.same(
    leader
      .takeMessages()
      .map((message) => message.to)
      .sort(),
    ['c'],
    'a heartbeat to c (b, asking, acknowledges the round with its next ask)',
  )
})

t.test('an ask the asker’s term or role does not vouch for goes through a heartbeat round', async (t) => {
  const cases: Array<{ what: string; asker: string; askTerm: number; members?: string[]; learners?: string[] }> = [
    { what: 'an ask from an older term', asker: 'b', askTerm: 0 },
    { what: 'an ask from a learner', asker: 'd', askTerm: 1, learners: ['d'] },
    { what: 'an ask from a non-member', asker: 'z', askTerm: 1 },
    { what: 'an ask in a 5-voter cluster (the asker and the leader are not a quorum)', asker: 'b', askTerm: 1, members: ['a', 'b', 'c', 'd', 'e'] },
  ]
  for (const { what, asker, askTerm, members, learners } of cases) {
    const leader = leaderWithAckedFollowers({ ...(members ? { members } : {}), ...(learners ? { learners } : {}) })
    t.equal(leader.status().commitIndex, 3, `${what}: entries committed`)
    leader.takeMessages()
    leader.takeReadOutcomes()
    leader.requestRead(1, { asker, term: askTerm, readRoundHeard: 0 })
    t.same(leader.takeReadOutcomes(), [], `${what}: not confirmed on the ask alone`)
    const heartbeats = leader.takeMessages().filter((message) => message.kind === 'append')
    t.ok(heartbeats.length >= 2, `${what}: a heartbeat round went out`)
    for (const message of heartbeats) {
      if (message.kind !== 'append') continue
      leader.onAppendReply(message.to, message.request, { term: 1, success: true, matchIndex: 3, conflictIndex: 0, conflictTerm: 0 })
    }
    t.same(leader.takeReadOutcomes(), [{ id: 1, index: 3 }], `${what}: confirmed by the round`)
  }
})

t.test('the ask of a follower that lost its state proves nothing', async (t) => {
  const leader = leaderWithAckedFollowers()
  leader.takeMessages()
  for (let i = 0; i < 2; i++) leader.tick()
  const toB = leader.takeMessages().find((message) => message.kind === 'append' && message.to === 'b')
  if (!toB || toB.kind !== 'append') throw new Error('no heartbeat to b')
  leader.onAppendReply('b', toB.request, { term: 1, success: false, matchIndex: 0, conflictIndex: 1, conflictTerm: 0 })
  leader.takeMessages()
  leader.takeReadOutcomes()
  leader.requestRead(1, { asker: 'b', term: 1, readRoundHeard: 0 })
  t.same(leader.takeReadOutcomes(), [], 'b’s ask does not confirm the read')
})

t.test('a new leader answers no ask before it has committed an entry of its term', async (t) => {
  const leader = core('a', { preVote: false })
  for (let i = 0; i < 20 && leader.status().role !== 'candidate'; i++) leader.tick()
  const vote = leader.takePersistence()
  if (vote) leader.persisted(vote)
  for (const message of leader.takeMessages()) {
    if (message.kind === 'vote') leader.onVoteReply(message.to, message.request, { term: message.request.term, granted: true })
  }
  t.equal(leader.status().role, 'leader')
  leader.requestRead(1, { asker: 'b', term: 1, readRoundHeard: 0 })
  t.same(leader.takeReadOutcomes(), [], 'the read waits for the term’s first commit')
})

/** The leader's messages, as `to: readRound` for appends (heartbeats and entries), sorted. */
function appendsOut(leader: RaftCore): string[] {
  return leader
    .takeMessages()
    .flatMap((message) => (message.kind === 'append' ? [`${message.to}: ${message.request.readRound}`] : []))
    .sort()
}

t.test('a follower’s next ask acknowledges the read round its last answer told it of: a round with an asking follower sends it no heartbeat', async (t) => {
  const leader = leaderWithAckedFollowers()
  leader.takeMessages()
  leader.takeReadOutcomes()
  leader.requestRead(1, { asker: 'b', term: 1, readRoundHeard: 0 })
  t.same(leader.takeReadOutcomes(), [{ id: 1, index: 3 }])

  leader.requestRead(2)
  const round = leader.readRound
  t.same(appendsOut(leader), [`c: ${round}`], 'b is asking, so the round goes to c alone')
  leader.requestRead(3, { asker: 'b', term: 1, readRoundHeard: round - 1 })
  t.same(leader.takeReadOutcomes(), [{ id: 3, index: 3 }], 'an ask told of an older round confirms its own read only')
  leader.requestRead(4, { asker: 'b', term: 1, readRoundHeard: round + 1 })
  t.same(leader.takeReadOutcomes(), [{ id: 4, index: 3 }], 'nor does one that claims a round not yet begun')
  leader.requestRead(5, { asker: 'b', term: 1, readRoundHeard: round })
  t.same(
    leader.takeReadOutcomes().sort((x, y) => x.id - y.id),
    [
      { id: 2, index: 3 },
      { id: 5, index: 3 },
    ],
    'an ask told of the round acknowledges it: the leader’s read is confirmed',
  )
})

t.test('a round left to an asking follower goes to everyone two ticks later if no ask confirmed it', async (t) => {
  const leader = leaderWithAckedFollowers({ heartbeatTicks: 5 })
  leader.takeMessages()
  leader.requestRead(1, { asker: 'b', term: 1, readRoundHeard: 0 })
  leader.requestRead(2, { asker: 'c', term: 1, readRoundHeard: 0 })
  leader.takeReadOutcomes()
  leader.requestRead(3)
  const round = leader.readRound
  t.same(appendsOut(leader), [], 'both followers are asking: no heartbeat')
  leader.tick()
  t.same(appendsOut(leader), [], 'none a tick later')
  leader.tick()
  t.same(appendsOut(leader), [`b: ${round}`, `c: ${round}`], 'the round goes to both at the second tick')
  t.same(leader.takeReadOutcomes(), [])
})

t.test('with leases, asks acknowledge no round and every round goes to every follower', async (t) => {
  const leader = leaderWithAckedFollowers({ leaseTicks: 4 })
  for (let i = 0; i < 10; i++) leader.tick() // past any lease from the election's rounds
  leader.takeMessages()
  leader.requestRead(1, { asker: 'b', term: 1, readRoundHeard: 0 })
  leader.takeReadOutcomes()
  leader.requestRead(2)
  const round = leader.readRound
  t.same(appendsOut(leader), [`b: ${round}`, `c: ${round}`])
  leader.requestRead(3, { asker: 'b', term: 1, readRoundHeard: round })
  t.same(
    leader.takeReadOutcomes().map((outcome) => outcome.id),
    [3],
    'the ask confirms its own read, not the leader’s',
  )
})

t.test('a follower reports the latest read round its leader told it of in this term, and forgets it in the next', async (t) => {
  const follower = core('b', {}, 1)
  follower.handleAppendEntries({ ...heartbeat(1, 'a'), readRound: 5 })
  follower.handleAppendEntries({ ...heartbeat(1, 'a'), readRound: 3 })
  t.equal(follower.readRoundHeard(), 5, 'a reordered, older heartbeat does not lower it')
  follower.hearReadRound(1, 9)
  t.equal(follower.readRoundHeard(), 9, 'an answer to an ask tells it of a later round')
  follower.hearReadRound(0, 20)
  t.equal(follower.readRoundHeard(), 9, 'nothing from an older term counts')
  follower.handleAppendEntries({ ...heartbeat(2, 'c'), readRound: 1 })
  t.equal(follower.readRoundHeard(), 1, 'the next term’s leader starts it afresh')
})
