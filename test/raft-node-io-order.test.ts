// The order in which a leader's driver does the I/O of a proposal: the AppendEntries go to the
// followers and are flushed to the wire before the leader starts its own log write. The leader's
// write runs alongside the followers' (its entry counts toward a commit only once it is durable), so
// starting it first would only delay the followers' writes, on which the commit waits.
// A real RaftNode over a transport that records what it is asked to do and answers as two willing
// followers would.

import t from 'tap'
import { openMemoryLog } from '../src/log/index.js'
import { RaftNode } from '../src/raft/index.js'
import { appendEntries, requestVote } from '../src/raft/rpc-methods.js'
import type { Transport } from '../src/rpc/transport.js'

t.test('a leader sends and flushes its AppendEntries before it starts its own write of the entry', async (t) => {
  const events: string[] = []
  const transport: Transport = {
    self: 'a',
    register: () => {},
    close: async () => {},
    flush: () => events.push('flush'),
    call: async (peer, method, request) => {
      if (method === requestVote.fullName) {
        const vote = requestVote.request.decode(request)
        return requestVote.reply.encode({ term: vote.term, granted: true })
      }
      if (method === appendEntries.fullName) {
        const append = appendEntries.request.decode(request)
        if (append.entries.length > 0) events.push(`append to ${peer}`)
        const matchIndex = append.prevLogIndex + append.entries.length
        return appendEntries.reply.encode({ term: append.term, success: true, matchIndex, conflictIndex: 0, conflictTerm: 0 })
      }
      throw new Error(`unexpected call ${method}`)
    },
  }
  const store = await openMemoryLog()
  const write = store.write.bind(store)
  store.write = (update) => {
    if ((update.entries?.length ?? 0) > 0) events.push('write')
    return write(update)
  }
  const node = await RaftNode.create({ id: 'a', members: ['a', 'b', 'c'], transport, store, electionTimeoutMs: 50, tickMs: 5 })
  t.teardown(() => node.stop())
  node.start()

  const deadline = Date.now() + 5000
  const until = async (done: () => boolean): Promise<void> => {
    while (!done() && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve))
  }
  await until(() => node.status().role === 'leader')
  t.equal(node.status().role, 'leader', 'the node leads with its two willing followers')
  const first = node.propose(new TextEncoder().encode('first')).index
  await until(() => node.status().commitIndex >= first)
  t.ok(node.status().commitIndex >= first, 'and commits with them')

  events.length = 0
  const proposed = node.propose(new TextEncoder().encode('x'))
  t.ok(proposed.isLeader, 'the proposal is taken')
  await until(() => events.includes('write'))
  t.same(events.slice(0, 4), ['append to b', 'append to c', 'flush', 'write'], 'both appends leave, flushed, before the leader’s own write starts')
})
