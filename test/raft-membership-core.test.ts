// The pure pieces of membership: the single-server change rules, and the history of configurations
// a log holds as entries are appended, truncated, compacted into a snapshot and replaced by one.

import t from 'tap'
import { type Configuration, ConfigurationHistory, applyChange, changeInEffect, configurationOf } from '../src/raft/membership.js'

const three = configurationOf(['a', 'b', 'c'], { a: 'h:1', b: 'h:2', c: 'h:3' })
const ids = (configuration: Configuration | string): string =>
  typeof configuration === 'string' ? configuration : `${configuration.voters.map((m) => m.id).join(',')}|${configuration.learners.map((m) => m.id).join(',')}`

t.test('the single-server changes and their refusals', async (t) => {
  t.equal(ids(applyChange(three, { kind: 'addLearner', id: 'd', address: 'h:4', promoteWhenCaughtUp: true })), 'a,b,c|d')
  t.equal(applyChange(three, { kind: 'addLearner', id: 'b', address: 'h:9', promoteWhenCaughtUp: false }), 'b is already a voter')
  t.equal(applyChange(three, { kind: 'addLearner', id: 'd', address: 'h:2', promoteWhenCaughtUp: false }), "address h:2 is already b's")
  const withLearner = applyChange(three, { kind: 'addLearner', id: 'd', address: 'h:4', promoteWhenCaughtUp: true }) as Configuration
  const promoted = applyChange(withLearner, { kind: 'promote', id: 'd' }) as Configuration
  t.equal(ids(promoted), 'a,b,c,d|')
  t.equal(promoted.voters[3]?.promoteWhenCaughtUp, false, 'a voter is not promoted again')
  t.equal(applyChange(three, { kind: 'promote', id: 'a' }), 'a is already a voter')
  t.equal(ids(applyChange(three, { kind: 'remove', id: 'b' })), 'a,c|')
  t.equal(applyChange(configurationOf(['a']), { kind: 'remove', id: 'a' }), 'a is the last voter')
  t.equal(applyChange(three, { kind: 'remove', id: 'z' }), 'z is not a member')
  const moved = applyChange(three, { kind: 'changeAddress', id: 'c', address: 'h:30' }) as Configuration
  t.equal(moved.voters[2]?.address, 'h:30')
  t.equal(applyChange(three, { kind: 'changeAddress', id: 'c', address: 'h:1' }), "address h:1 is already a's")
})

t.test('a change already made is recognised, so a retry of one that committed unseen is done', async (t) => {
  const before: Configuration = configurationOf(['a', 'b'], { a: 'ha', b: 'hb' })
  for (const change of [
    { kind: 'addLearner', id: 'c', address: 'hc', promoteWhenCaughtUp: false },
    { kind: 'remove', id: 'b' },
    { kind: 'changeAddress', id: 'a', address: 'ha2' },
  ] as const) {
    t.notOk(changeInEffect(before, change), `${change.kind} is not in effect before`)
    const after = applyChange(before, change)
    if (typeof after === 'string') throw new Error(after)
    t.ok(changeInEffect(after, change), `and is after`)
  }
  const withLearner = applyChange(before, { kind: 'addLearner', id: 'c', address: 'hc', promoteWhenCaughtUp: false }) as Configuration
  t.notOk(changeInEffect(withLearner, { kind: 'promote', id: 'c' }))
  t.ok(changeInEffect(applyChange(withLearner, { kind: 'promote', id: 'c' }) as Configuration, { kind: 'promote', id: 'c' }))
  t.notOk(
    changeInEffect(withLearner, { kind: 'addLearner', id: 'c', address: 'elsewhere', promoteWhenCaughtUp: false }),
    'at another address it is not the same change',
  )
})

t.test('a log’s configurations follow appends, truncation, compaction and a leader’s snapshot', async (t) => {
  const history = new ConfigurationHistory(0, three)
  const four = applyChange(three, { kind: 'addLearner', id: 'd', address: 'h:4', promoteWhenCaughtUp: false }) as Configuration
  const five = applyChange(four, { kind: 'promote', id: 'd' }) as Configuration
  history.append(5, four)
  history.append(9, five)
  t.equal(ids(history.latest), 'a,b,c,d|', 'the latest is used, committed or not')
  t.equal(history.latestIndex, 9)
  t.equal(ids(history.at(4)), 'a,b,c|')
  t.equal(ids(history.at(7)), 'a,b,c|d')
  history.truncateFrom(9)
  t.equal(ids(history.latest), 'a,b,c|d', 'a truncated entry takes its configuration with it')
  history.compact(6)
  t.equal(ids(history.at(6)), 'a,b,c|d', 'a snapshot through 6 records the configuration in force there')
  t.equal(history.latestIndex, 6)
  history.append(8, five)
  history.restore(7, three, true)
  t.equal(ids(history.latest), 'a,b,c,d|', 'a snapshot that matches the log keeps the changes after it')
  history.restore(20, four, false)
  t.equal(ids(history.latest), 'a,b,c|d', 'one that does not replaces them all')
  t.equal(history.latestIndex, 20)
})
