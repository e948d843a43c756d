// The checker's KV model covers what Redis clients do (issue 15): conditional puts with GET, keys
// with a time to live expiring by log time, increments and single-key transactions. Crafted
// histories it must accept and refuse, then concurrent clerks on an unreliable simulated network
// with partitions doing lock-style SET NX PX, SET XX GET, INCR and MULTI on a few keys: every
// history linearizable, with reads by ReadIndex rounds and by leader leases.

import t from 'tap'
import { sleep } from '../src/base/clock.js'
import type { KvCommand, KvResult } from '../src/kv/kv.js'
import type { KvClerk } from '../src/kv/kv-clerk.js'
import { KvCluster } from '../src/testing/kv-cluster.js'
import { startNemesis } from '../src/testing/nemesis.js'
import { type KvInput, type KvOutput, checkOperations, kvModel } from '../src/testing/linearizability/index.js'
import type { SimWorld } from '../src/sim/world.js'
import { KV_LATENCY_MS } from './helpers/kv-raft.js'
import { type KvHistory, checkLinearizable, newHistory } from './helpers/kv.js'
import { simTest } from './helpers/sim.js'

const model = kvModel({ appendReturnsOld: false, appendReturnsLength: true, withExpiry: true })

function op(clientId: number, callMs: number, returnMs: number, input: Omit<KvInput, 'key'>, output: KvOutput) {
  return { clientId, input: { ...input, key: 'k', calledAtMs: callMs }, output: { ...output, returnedAtMs: returnMs }, callMs, returnMs }
}

t.test('the model: locks, expiry and transactions', async (t) => {
  const lock = (client: number, at: number, end: number, token: string, granted: boolean) =>
    op(client, at, end, { op: 'put', value: token, condition: 'nx', ttlMs: 100 }, { value: '', found: !granted })
  t.equal(checkOperations(model, [lock(0, 0, 5, 'a', true), lock(1, 10, 15, 'b', false)]).outcome, 'ok', 'a held lock refuses a second taker')
  t.equal(checkOperations(model, [lock(0, 0, 5, 'a', true), lock(1, 10, 15, 'b', true)]).outcome, 'illegal', 'two holders before the TTL could end')
  t.equal(
    checkOperations(model, [lock(0, 0, 5, 'a', true), lock(1, 100, 105, 'b', true)]).outcome,
    'ok',
    'a second holder once the first lock can have expired',
  )
  const get = (at: number, end: number, value: string | null) => op(2, at, end, { op: 'get', value: '' }, { value: value ?? '', found: value !== null })
  t.equal(checkOperations(model, [lock(0, 0, 5, 'a', true), get(50, 60, null)]).outcome, 'illegal', 'seen gone before its deadline')
  t.equal(
    checkOperations(model, [lock(0, 0, 5, 'a', true), get(150, 160, 'a'), get(170, 180, null)]).outcome,
    'ok',
    'seen past its deadline, then gone (the purge came later)',
  )
  t.equal(checkOperations(model, [lock(0, 0, 5, 'a', true), get(150, 160, null), get(170, 180, 'a')]).outcome, 'illegal', 'gone, then back: expiry is for good')
  const putGet = op(3, 20, 25, { op: 'put', value: 'v', condition: 'xx', returnOld: true }, { value: 'a', found: true })
  t.equal(checkOperations(model, [lock(0, 0, 5, 'a', true), putGet, get(30, 35, 'v')]).outcome, 'ok', 'SET XX GET returns what it replaced')
  t.equal(checkOperations(model, [putGet]).outcome, 'illegal', 'SET XX GET cannot have found a key nobody wrote')
  const multi = (client: number, at: number, end: number, first: string, second: string) =>
    op(
      client,
      at,
      end,
      {
        op: 'multi',
        value: '',
        commands: [
          { op: 'incr', key: 'k', value: '1' },
          { op: 'incr', key: 'k', value: '1' },
        ],
      },
      { value: '', results: [{ value: first }, { value: second }] },
    )
  t.equal(checkOperations(model, [multi(0, 0, 10, '1', '2'), multi(1, 0, 10, '3', '4')]).outcome, 'ok', 'two transactions, one after the other')
  t.equal(checkOperations(model, [multi(0, 0, 10, '1', '3'), multi(1, 0, 10, '2', '4')]).outcome, 'illegal', 'two transactions interleaved')
})

const CLIENTS = 4
const ROUNDS = 40
const LOCKS = ['lock:a', 'lock:b']

/** Runs `command` through the clerk and records it as `input` in the history. */
async function recorded(world: SimWorld, clerk: KvClerk, history: KvHistory, client: number, input: KvInput, command: KvCommand): Promise<KvResult> {
  const operation = history.begin(client, { ...input, calledAtMs: world.clock.now() }, world.clock.now())
  const result = await clerk.execute(command)
  const output: KvOutput = {
    value: result.value,
    found: result.found,
    returnedAtMs: world.clock.now(),
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.results ? { results: result.results.map((inner) => ({ value: inner.value, found: inner.found })) } : {}),
  }
  operation.end(output, world.clock.now())
  return result
}

async function redisClient(world: SimWorld, clerk: KvClerk, history: KvHistory, client: number): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const key = LOCKS[world.rng.int(LOCKS.length)] as string
    const token = `c${client}r${round}`
    const ttlMs = 50 + world.rng.int(200)
    switch (world.rng.int(5)) {
      case 0:
      case 1:
        await recorded(
          world,
          clerk,
          history,
          client,
          { op: 'put', key, value: token, condition: 'nx', ttlMs },
          {
            op: 'put',
            key,
            value: token,
            condition: 'nx',
            expiry: { kind: 'in', ms: ttlMs },
          },
        )
        break
      case 2:
        await recorded(
          world,
          clerk,
          history,
          client,
          { op: 'put', key, value: token, condition: 'xx', returnOld: true, keepTtl: true },
          { op: 'put', key, value: token, condition: 'xx', returnOld: true, expiry: { kind: 'keep' } },
        )
        break
      case 3:
        await recorded(world, clerk, history, client, { op: 'get', key, value: '' }, { op: 'get', key, value: '' })
        break
      default: {
        const inner: KvInput[] = [
          { op: 'incr', key: 'counter', value: '1' },
          { op: 'incr', key: 'counter', value: '2' },
          { op: 'get', key: 'counter', value: '' },
        ]
        await recorded(
          world,
          clerk,
          history,
          client,
          { op: 'multi', key: 'counter', value: '', commands: inner },
          {
            op: 'multi',
            key: '',
            value: '',
            commands: inner.map((each) => ({ op: each.op === 'incr' ? 'incr' : 'get', key: each.key, value: each.value })),
          },
        )
      }
    }
    await sleep(world.clock, world.rng.int(100))
  }
}

// With lease reads too: gets served on the leader's lease, never stale through the partitions. And
// with each clerk in a server's process, as a node's RESP endpoint is: it reads on that server first,
// follower or not (the follower asks the leader for a read point).
const variants = [
  { leaseReads: false, colocated: false, name: '' },
  { leaseReads: true, colocated: false, name: 'WithLeaseReads' },
  { leaseReads: false, colocated: true, name: 'WithReadsOnEveryMember' },
]
for (const { leaseReads, colocated, name } of variants) {
  simTest(
    t,
    `LocksWithExpiryIncrementsAndTransactionsThroughPartitionsAreLinearizable${name}`,
    async (world, t) => {
      const cluster = await KvCluster.create(world, { servers: 5, unreliable: true, latencyMs: KV_LATENCY_MS, node: { leaseReads } })
      const history = newHistory()
      const clerks = Array.from({ length: CLIENTS }, (_, client) =>
        cluster.makeClient(cluster.all(), colocated ? { colocatedWith: client % cluster.size } : {}),
      )
      const nemesis = startNemesis(world, cluster, { crashes: false, periodMs: 400 })
      await Promise.all(clerks.map((clerk, client) => redisClient(world, clerk, history, client)))
      await nemesis.stop()
      const operations = history.operations()
      const expiredSeen = operations.filter(
        (operation) => operation.input.op === 'put' && operation.input.condition === 'nx' && operation.output?.found === false,
      ).length
      t.ok(expiredSeen >= 10, `${expiredSeen} locks taken on ${LOCKS.length} keys: locks were taken again after they expired`)
      checkLinearizable(t, history, false, 'kv-redis', { withExpiry: true })
      for (const clerk of clerks) cluster.deleteClient(clerk)
      cluster.cleanup()
    },
    { maxVirtualMs: 300_000 },
  )
}
