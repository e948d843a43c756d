// The sharded KV carries what the Redis commands added (issue 15): hashes, times to live and log
// time move with a shard to its new owner, whose leader then expires keys by their deadlines; keys
// of one shard are atomic together (MSET, transactions) and keys of two shards are refused with
// CROSSSLOT, as Redis Cluster refuses them; a command about every key (DBSIZE, KEYS, SCAN, FLUSHALL)
// is refused, not run on one shard.

import t from 'tap'
import { sleep } from '../src/base/clock.js'
import type { KvCommand, KvResult } from '../src/kv/kv.js'
import { ShardCluster } from '../src/testing/shard-cluster.js'
import { simTest } from './helpers/sim.js'

function put(key: string, value: string, ttlMs?: number): KvCommand {
  return ttlMs === undefined ? { op: 'put', key, value } : { op: 'put', key, value, expiry: { kind: 'in', ms: ttlMs } }
}

simTest(
  t,
  'HashesDeadlinesAndLogTimeMoveWithAShardAndKeysOfTwoShardsAreRefused',
  async (world, t) => {
    const cluster = await ShardCluster.create(world, { maxRaftStateBytes: 4000 })
    const clerk = cluster.makeClient()
    await cluster.join(0)
    // With the first byte choosing the shard, keys beginning with one letter share a shard.
    await clerk.execute(put('a:long', 'stays', 600_000))
    await clerk.execute(put('a:short', 'goes', 3000))
    await clerk.execute({ op: 'hset', key: 'a:hash', value: '', fields: ['f', 'g'], values: ['1', '2'] })
    const written = world.clock.now()
    t.match(await clerk.execute({ op: 'mset', key: 'a:1', value: '', keys: ['a:2'], values: ['x', 'y'] }), { integer: 1 }, 'MSET of keys in one shard')
    const cross: KvResult = await clerk.execute({ op: 'mset', key: 'a:3', value: '', keys: ['b:3'], values: ['x', 'y'] })
    t.equal(cross.error, "CROSSSLOT Keys in request don't hash to the same slot", 'MSET across shards is refused')
    t.equal((await clerk.execute({ op: 'exists', key: 'a:3', value: '', keys: ['b:3'] })).error, cross.error, 'a read across shards too')
    t.equal(
      (await clerk.execute({ op: 'multi', key: '', value: '', commands: [put('a:4', 'x'), put('b:4', 'y')] })).error,
      cross.error,
      'and a transaction across shards',
    )
    t.equal((await clerk.execute({ op: 'get', key: 'a:3', value: '' })).found, false, 'the refused MSET wrote nothing')
    const transaction = await clerk.execute({ op: 'multi', key: '', value: '', commands: [put('a:5', '1'), { op: 'incr', key: 'a:5', value: '2' }] })
    t.same(
      transaction.results?.map((result) => result.value),
      ['', '3'],
      'a transaction on one shard runs whole',
    )
    t.match((await clerk.execute({ op: 'dbsize', key: '', value: '' })).error, /^ERR DBSIZE spans every shard/, 'DBSIZE is refused')

    // Every shard moves to group 1; its log time, deadlines and hashes go with it.
    await cluster.join(1)
    await cluster.leave(0)
    await sleep(world.clock, 1000)
    t.match(await clerk.execute({ op: 'hgetall', key: 'a:hash', value: '' }), { values: ['f', '1', 'g', '2'] }, 'the hash moved')
    const ttl = await clerk.execute({ op: 'ttl', key: 'a:long', value: '' })
    t.ok((ttl.integer ?? 0) > 590_000 && (ttl.integer ?? 0) <= 600_000, `the long TTL moved (${ttl.integer} ms left)`)
    const holder = cluster.groups[1]?.servers.find((server) => server?.replica.state.shards.size)
    const shardState = [...(holder?.replica.state.shards.values() ?? [])].find((shard) => shard.data.entries.has('a:long'))
    t.ok(shardState && shardState.data.clockMs >= written, 'and the shard log time with it')

    // Nobody writes: the new owner's leader purges the short key once its deadline has passed.
    await sleep(world.clock, Math.max(0, written + 3000 + 1500 - world.clock.now()))
    for (const server of cluster.groups[1]?.servers ?? []) {
      if (!server) continue
      for (const shard of server.replica.state.shards.values()) t.notOk(shard.data.entries.has('a:short'), `${server.name} purged a:short`)
    }
    t.equal((await clerk.execute({ op: 'get', key: 'a:short', value: '' })).found, false, 'a:short is gone')
    t.equal(await clerk.get('a:long'), 'stays')
    cluster.cleanup()
  },
  { maxVirtualMs: 600_000 },
)
