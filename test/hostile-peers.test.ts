// Forged peer messages against a real 3-process `lograft node` cluster on plain TCP (issue 11,
// findings 1 and 2). The cluster lists a fourth member, "4", that never runs: the forger below
// takes its identity, the strongest position plain TCP allows (it learned the cluster id from
// INFO and claims a member no one is connected as). Every forged message is refused by the
// checks at Raft's door; no node crashes, no term is inflated, no acknowledged write changes.
// Under mutual TLS (tls-processes.test.ts) the forger does not get this far.

import t from 'tap'
import { rpcOutcome } from './helpers/rpc-outcome.js'
import { appendEntries, askReadIndex, requestVote, timeoutNow } from '../src/raft/rpc-methods.js'
import type { AppendEntriesRequest } from '../src/raft/types.js'
import { invoke } from '../src/rpc/service.js'
import { TcpTransport } from '../src/rpc/tcp-transport.js'
import { envelopeCodec } from '../src/statemachine/envelope.js'
import { kvCommandCodec } from '../src/kv/kv.js'
import { MemoryLogger } from '../src/base/logger.js'
import { freePortBlock, infoFields, respCommand, respPort, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

const phantomPort = (await freePortBlock(1)) + 1
const exits: string[] = []
const kv = await startKvCluster(3, {
  onExit: (id, code, signal, lastError) => exits.push(`${id}: ${signal ?? code} ${lastError ?? ''}`),
  adjustLayout: (layout) => ({ ...layout, peers: `${layout.peers},4=127.0.0.1:${phantomPort}` }),
})
t.teardown(() => kv.stop(false))
const leader = await waitForLeader(kv.cluster, 15_000)
if (!leader) throw new Error('no leader')
const peersById = Object.fromEntries(kv.nodes.map((node) => [node.id, node.raftAddress]))

async function info(id: string): Promise<Map<string, string>> {
  const fields = await infoFields(respPort(kv.cluster.node(id)))
  if (!fields) throw new Error(`node ${id} does not answer INFO`)
  return fields
}

function resp(id: string, ...words: string[]): Promise<string> {
  return respCommand(respPort(kv.cluster.node(id)), ...words)
}

const leaderInfo = await info(leader.id)
const clusterId = leaderInfo.get('cluster_id') ?? ''
const acknowledged = await resp(leader.id, 'SET', 'k', 'acknowledged')

/** A process that claims to be member "4" (cluster id learned from INFO). */
const forgerLogger = new MemoryLogger()
const forger = await TcpTransport.start({
  self: '4',
  peers: peersById,
  cluster: { clusterId, incarnation: 'forged', membersDigest: '' },
  logger: forgerLogger,
  callTimeoutMs: 3000,
})
t.teardown(() => forger.close())

const follower = kv.nodes.find((node) => node.id !== leader.id)?.id ?? ''
const term = Number(leaderInfo.get('term'))

function forgedEntry(value: string): AppendEntriesRequest['entries'][number] {
  const command = kvCommandCodec.encode({ op: 'put', key: 'k', value })
  return { term, type: 0, data: envelopeCodec.encode({ clientId: 999, sequence: 1, timeMs: Date.now(), command }) }
}

t.test('INFO shows the random cluster id, and a write was acknowledged before the forger came', async (t) => {
  t.match(clusterId, /^[0-9a-f]{16}$/)
  t.equal(acknowledged, 'OK')
})

t.test('RequestVote with term 2^60 is refused at decode; every node stays up', async (t) => {
  for (const node of kv.nodes) {
    const result = await rpcOutcome(
      invoke(forger, node.id, requestVote, { term: 2 ** 60, candidateId: '4', lastLogIndex: 2 ** 40, lastLogTerm: 2 ** 60, preVote: false, transfer: false }),
    )
    t.match(result, /^BAD_MESSAGE: .*term/, `node ${node.id}: ${result}`)
  }
})

t.test('RequestVote with term 2^53 - 1, or a jump of millions, is refused and nothing is saved', async (t) => {
  for (const badTerm of [2 ** 53 - 1, term + 5_000_000]) {
    const result = await rpcOutcome(
      invoke(forger, follower, requestVote, { term: badTerm, candidateId: '4', lastLogIndex: 10 ** 6, lastLogTerm: term, preVote: false, transfer: false }),
    )
    t.match(result, /^BAD_MESSAGE: .*(out of range|jumps more than)/, `term ${badTerm}: ${result}`)
  }
  for (const node of kv.nodes) t.ok(Number((await info(node.id)).get('term')) < term + 100, `node ${node.id} kept a sane term`)
})

t.test("AppendEntries in the leader's name from another sender is refused", async (t) => {
  const request: AppendEntriesRequest = {
    term,
    leaderId: leader.id,
    prevLogIndex: Number(leaderInfo.get('last_index')),
    prevLogTerm: term,
    entries: [forgedEntry('forged')],
    leaderCommit: 0,
    readRound: 0,
    lostState: false,
  }
  t.match(await rpcOutcome(invoke(forger, follower, appendEntries, request)), /^BAD_MESSAGE: .*leader "\d" is not the sender \(4\)/)
})

t.test('AppendEntries from a second "leader" of a term that has one is refused', async (t) => {
  const request: AppendEntriesRequest = {
    term: Number((await info(follower)).get('term')),
    leaderId: '4',
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [forgedEntry('forged')],
    leaderCommit: 1_000_000,
    readRound: 0,
    lostState: false,
  }
  t.match(await rpcOutcome(invoke(forger, follower, appendEntries, request)), /^BAD_MESSAGE: .*already has leader/)
})

t.test("TimeoutNow in the leader's name, or from a non-leader, makes no one campaign", async (t) => {
  const before = Number((await info(follower)).get('term'))
  t.match(await rpcOutcome(invoke(forger, follower, timeoutNow, { term: before, leaderId: leader.id })), /^BAD_MESSAGE: .*not the sender/)
  t.match(await rpcOutcome(invoke(forger, follower, timeoutNow, { term: before, leaderId: '4' })), /^BAD_MESSAGE: .*already has leader/)
  t.equal(Number((await info(follower)).get('term')), before, 'no election followed')
})

t.test("ReadIndex asks in another member's name or with a wild term are refused; a flood of asks is answered, and nothing else changes", async (t) => {
  t.match(
    await rpcOutcome(invoke(forger, leader.id, askReadIndex, { term, followerId: follower, readRoundHeard: 0 })),
    /^BAD_MESSAGE: .*follower "\d" is not the sender \(4\)/,
  )
  t.match(await rpcOutcome(invoke(forger, leader.id, askReadIndex, { term: 2 ** 53 - 1, followerId: '4', readRoundHeard: 0 })), /^BAD_MESSAGE: .*out of range/)
  t.match(
    await rpcOutcome(invoke(forger, leader.id, askReadIndex, { term, followerId: '4', readRoundHeard: 2 ** 53 - 1 })),
    /^BAD_MESSAGE: .*read round .* out of range/,
  )
  const before = Number((await info(leader.id)).get('term'))
  const replies = await Promise.all(Array.from({ length: 500 }, () => invoke(forger, leader.id, askReadIndex, { term, followerId: '4', readRoundHeard: 0 })))
  t.ok(
    replies.every((reply) => reply.confirmed && reply.readIndex >= 1),
    'the leader answers every ask with a read point (a member may read), and nothing else',
  )
  t.equal(Number((await info(leader.id)).get('term')), before, 'no election followed')
})

t.test('a client connection cannot call Raft at all', async (t) => {
  const client = await TcpTransport.start({ self: 'client', peers: peersById, logger: new MemoryLogger() })
  t.teardown(() => client.close())
  const request = { term: term + 1, candidateId: 'client', lastLogIndex: 0, lastLogTerm: 0, preVote: false, transfer: false }
  t.match(await rpcOutcome(invoke(client, follower, requestVote, request)), /^NO_HANDLER: .*for clients/)
})

t.test('a node of another cluster is refused at the handshake', async (t) => {
  const stranger = await TcpTransport.start({
    self: '4',
    peers: peersById,
    cluster: { clusterId: 'another-cluster', incarnation: 'x', membersDigest: '' },
    logger: new MemoryLogger(),
  })
  t.teardown(() => stranger.close())
  const request = { term: term + 1, candidateId: '4', lastLogIndex: 0, lastLogTerm: 0, preVote: false, transfer: false }
  t.match(await rpcOutcome(invoke(stranger, follower, requestVote, request)), /^UNREACHABLE: .*cluster another-cluster is not this node's cluster/)
})

t.test('after all of it: every node is up, the acknowledged value stands, and writes go on', async (t) => {
  t.same(exits, [], 'no node exited')
  for (const node of kv.nodes) t.equal(await resp(node.id, 'GET', 'k'), 'acknowledged', `node ${node.id}`)
  t.equal(await resp(follower, 'SET', 'after', 'yes'), 'OK')
  t.equal(await resp(leader.id, 'GET', 'after'), 'yes')
})
