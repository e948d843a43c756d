// Redis's string commands in the KV machine (issue 15): conditional puts (SET NX/XX/GET) and
// getdel decided where they apply; INCR's integer rules (signed 64 bits, no leading zeros or plus,
// a missing key is 0, a refused incr changes nothing), the checker's model
// of it (a history it must accept and one it must refuse), and concurrent clerks incrementing one
// counter through partitions on an unreliable simulated network: every increment counted exactly
// once, the history linearizable.

import t from 'tap'
import { sleep } from '../src/base/clock.js'
import { kvMachine } from '../src/kv/kv.js'
import { KvState } from '../src/kv/kv.js'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { checkOperations, kvModel } from '../src/testing/linearizability/index.js'
import { KV_LATENCY_MS } from './helpers/kv-raft.js'
import { type KvHistory, checkLinearizable, get, newHistory } from './helpers/kv.js'
import { simTest } from './helpers/sim.js'
import type { SimWorld } from '../src/sim/world.js'
import type { KvClerk } from '../src/kv/kv-clerk.js'

const machine = kvMachine({ appendReturnsOldValue: false })
const context = { index: 1, term: 1, timeMs: 0 }

function incr(state: KvState, key: string, delta: string) {
  return machine.apply(state, { op: 'incr', key, value: delta }, context).result
}

t.test("the reducer follows Redis's integer rules", async (t) => {
  const state = KvState.of([
    ['text', 'abc'],
    ['padded', '007'],
    ['max', '9223372036854775807'],
    ['min', '-9223372036854775808'],
    ['spaced', ' 1'],
  ])
  t.match(incr(state, 'new', '1'), { value: '1', found: false, error: undefined }, 'a missing key counts as 0')
  t.match(incr(state, 'new', '-5'), { value: '-4', found: true }, 'negative deltas')
  t.equal(state.get('new'), '-4')
  for (const key of ['text', 'padded', 'spaced']) {
    t.match(incr(state, key, '1'), { error: 'ERR value is not an integer or out of range' }, `"${state.get(key)}" is not an integer`)
  }
  t.equal(state.get('padded'), '007', 'a refused incr changes nothing')
  t.match(incr(state, 'max', '1'), { error: 'ERR increment or decrement would overflow' })
  t.match(incr(state, 'min', '-1'), { error: 'ERR increment or decrement would overflow' })
  t.match(incr(state, 'max', '-1'), { value: '9223372036854775806' }, 'past 2^53, exactly')
  for (const delta of ['+1', '01', '-0', '1.5', '', '9223372036854775808']) {
    t.match(incr(state, 'new', delta), { error: 'ERR value is not an integer or out of range' }, `delta "${delta}" is refused`)
  }
  t.equal(state.get('new'), '-4')
})

t.test('conditional puts are decided in the log, and getdel returns what it deleted', async (t) => {
  const state = KvState.of([['here', 'old']])
  const put = (key: string, value: string, extra: { condition?: 'nx' | 'xx'; returnOld?: boolean }) =>
    machine.apply(state, { op: 'put', key, value, ...extra }, context).result
  t.match(put('here', 'new', { condition: 'nx' }), { found: true, value: '' }, 'NX on an existing key')
  t.equal(state.get('here'), 'old', 'wrote nothing')
  t.match(put('gone', 'x', { condition: 'xx' }), { found: false })
  t.notOk(state.has('gone'), 'XX on a missing key wrote nothing')
  t.match(put('here', 'new', { condition: 'xx', returnOld: true }), { found: true, value: 'old', length: 3 }, 'XX GET')
  t.equal(state.get('here'), 'new')
  t.match(put('fresh', 'v', { condition: 'nx' }), { found: false, length: 1 })
  t.equal(state.get('fresh'), 'v')
  t.match(machine.apply(state, { op: 'getdel', key: 'fresh', value: '' }, context).result, { found: true, value: 'v' })
  t.notOk(state.has('fresh'))
  t.match(machine.apply(state, { op: 'getdel', key: 'fresh', value: '' }, context).result, { found: false, value: '' })
  const wire = machine.commandCodec.decode(machine.commandCodec.encode({ op: 'put', key: 'k', value: 'v', condition: 'xx', returnOld: true }))
  t.same(wire, { op: 'put', key: 'k', value: 'v', condition: 'xx', returnOld: true }, 'the options survive the log')
  t.same(
    machine.commandCodec.decode(machine.commandCodec.encode({ op: 'put', key: 'k', value: 'v' })),
    { op: 'put', key: 'k', value: 'v' },
    'and a plain put has none',
  )
})

t.test('the checker accepts counting histories and refuses a lost or doubled increment', async (t) => {
  const model = kvModel({ appendReturnsOld: false, appendReturnsLength: true })
  const op = (client: number, callMs: number, returnMs: number, input: { op: 'incr' | 'get'; value: string }, value: string) => ({
    clientId: client,
    input: { ...input, key: 'c' },
    output: { value },
    callMs,
    returnMs,
  })
  const concurrent = [op(0, 0, 10, { op: 'incr', value: '1' }, '2'), op(1, 1, 9, { op: 'incr', value: '1' }, '1'), op(2, 11, 12, { op: 'get', value: '' }, '2')]
  t.equal(checkOperations(model, concurrent).outcome, 'ok', 'two concurrent increments in either order')
  const doubled = [op(0, 0, 1, { op: 'incr', value: '1' }, '1'), op(1, 2, 3, { op: 'incr', value: '1' }, '1')]
  t.equal(checkOperations(model, doubled).outcome, 'illegal', 'two increments that both saw 0 one after the other')
  const lost = [op(0, 0, 1, { op: 'incr', value: '5' }, '5'), op(1, 2, 3, { op: 'get', value: '' }, '0')]
  t.equal(checkOperations(model, lost).outcome, 'illegal', 'an acknowledged increment missing from a later read')
})

const CLIENTS = 5
const INCREMENTS = 20

async function counter(world: SimWorld, clerk: KvClerk, history: KvHistory, client: number): Promise<void> {
  for (let i = 0; i < INCREMENTS; i++) {
    const delta = String(1 + world.rng.int(3))
    const op = history.begin(client, { op: 'incr', key: 'counter', value: delta }, world.clock.now())
    const result = await clerk.incr('counter', BigInt(delta))
    op.end(result.error === undefined ? { value: result.value } : { value: '', error: result.error }, world.clock.now())
    if (world.rng.int(4) === 0) await get(world, clerk, 'counter', history, client)
  }
}

simTest(
  t,
  'ConcurrentIncrementsThroughPartitionsCountExactlyOnce',
  async (world, t) => {
    const cluster = await KvCluster.create(world, { servers: 5, unreliable: true, latencyMs: KV_LATENCY_MS })
    const history = newHistory()
    const clerks = Array.from({ length: CLIENTS }, () => cluster.makeClient(cluster.all()))
    let partitioning = true
    const nemesis = (async () => {
      while (partitioning) {
        const [p1, p2] = cluster.makePartition()
        cluster.partition(p1, p2)
        await sleep(world.clock, 500 + world.rng.int(500))
        cluster.connectAll()
        await sleep(world.clock, 300)
      }
    })()
    await Promise.all(clerks.map((clerk, client) => counter(world, clerk, history, client)))
    partitioning = false
    await nemesis
    cluster.connectAll()
    const deltas = history
      .operations()
      .filter((operation) => operation.input.op === 'incr')
      .reduce((sum, operation) => sum + Number(operation.input.value), 0)
    const final = await get(world, clerks[0] as KvClerk, 'counter', history, 0)
    t.equal(final, String(deltas), `the counter is the sum of all ${CLIENTS * INCREMENTS} increments: each applied exactly once`)
    checkLinearizable(t, history, false, 'kv-strings')
    for (const clerk of clerks) cluster.deleteClient(clerk)
    cluster.cleanup()
  },
  // 32001: a proposer waiting at an index this node proposed at again, in a later term, was
  // forgotten unsettled, and its clerk waited forever (fixed in the runtime).
  { regressionSeeds: [32001] },
)
