// A group's migration rate (maxMigrationBytesPerSecond, `--max-migration-rate`): the pacer spaces
// chunks by their bytes at the rate, and a group pulling its shards under a rate takes at least
// their bytes over the rate to serve them, with every key intact; without one, the same move is
// far quicker.

import t, { type Test } from 'tap'
import { sleep } from '../src/base/clock.js'
import { VirtualClock } from '../src/sim/virtual-clock.js'
import type { SimWorld } from '../src/sim/world.js'
import { firstByteShard } from '../src/shard/config.js'
import { MigrationPacer } from '../src/shard/migration-pacer.js'
import { ShardCluster } from '../src/testing/shard-cluster.js'
import { simTest } from './helpers/sim.js'
import { checkAll, putKeys } from './helpers/shard.js'

t.test('the pacer lets a chunk go once the chunks before it have had their bytes over the rate, and saves up no idle time', async (t) => {
  const clock = new VirtualClock()
  const pacer = new MigrationPacer(1000, clock)
  const started: Array<[number, number]> = []
  await clock.run(async () => {
    for (const bytes of [500, 250, 1000]) {
      await pacer.take(bytes)
      started.push([bytes, clock.now()])
    }
    await sleep(clock, 5000) // Idle well past the 1750 ms the chunks above took: no burst after it.
    for (const bytes of [100, 100]) {
      await pacer.take(bytes)
      started.push([bytes, clock.now()])
    }
  })
  t.same(started, [
    [500, 0],
    [250, 500],
    [1000, 750],
    [100, 5750],
    [100, 5850],
  ])
  t.throws(() => new MigrationPacer(0, clock), /positive number of bytes per second/)
})

t.test('stopping the pacer lets a chunk waiting for its turn go at once, with no timer left', async (t) => {
  const clock = new VirtualClock()
  const pacer = new MigrationPacer(1000, clock)
  await clock.run(async () => {
    await pacer.take(60_000) // The next chunk may start in a minute.
    let released = false
    const waiting = pacer.take(100).then(() => (released = true))
    await sleep(clock, 10)
    t.notOk(released, 'the chunk waits its turn')
    pacer.stop()
    await waiting
    t.equal(clock.now(), 10, 'and goes the moment the pacer stops, not a minute later')
  })
})

const KEYS = 10
const VALUE_BYTES = 4000
const RATE = 4000

interface Move {
  elapsedMs: number
  movedBytes: number
  largestShardBytes: number
}

/** Fills group 100 with KEYS keys (one per shard), joins group 101, and times until 101 serves its half. */
async function moveHalf(world: SimWorld, t: Test, maxMigrationBytesPerSecond?: number): Promise<Move> {
  const cluster = await ShardCluster.create(world, maxMigrationBytesPerSecond === undefined ? {} : { maxMigrationBytesPerSecond })
  t.teardown(() => cluster.cleanup())
  const clerk = cluster.makeClient()
  await cluster.join(0)
  const data = await putKeys(world, clerk, KEYS, VALUE_BYTES)
  await cluster.join(1)
  const startedMs = world.clock.now()
  const config = await cluster.admin.query(-1)
  const bytesOf = data.keys
    .filter((key) => config.shards[firstByteShard(key, cluster.shardCount)] === ShardCluster.gid(1))
    .map((key) => key.length + VALUE_BYTES)
  t.ok(bytesOf.length > 0, `${bytesOf.length} keys move to group 101`)
  for (;;) {
    const served = cluster
      .group(1)
      .servers.some(
        (server) => server?.replica.state.config.num === config.num && [...server.replica.state.shards.values()].every((shard) => shard.status === 'serving'),
      )
    if (served) break
    await sleep(world.clock, 50)
  }
  const elapsedMs = world.clock.now() - startedMs
  await checkAll(t, clerk, data)
  return { elapsedMs, movedBytes: bytesOf.reduce((sum, bytes) => sum + bytes, 0), largestShardBytes: Math.max(...bytesOf) }
}

/** The least time a paced move can take: all but the first chunk's bytes at the rate (chunks carry more than keys and values). */
function pacedFloorMs(move: Move): number {
  return ((move.movedBytes - move.largestShardBytes) / RATE) * 1000
}

simTest(t, 'a group under a migration rate takes at least the moved bytes over the rate to serve its new shards, every key intact', async (world, t) => {
  const move = await moveHalf(world, t, RATE)
  t.ok(move.elapsedMs >= pacedFloorMs(move), `${move.movedBytes} bytes moved in ${move.elapsedMs} ms at ${RATE} B/s (floor ${pacedFloorMs(move)} ms)`)
  t.ok(move.elapsedMs <= (move.movedBytes / RATE) * 1000 * 2 + 5000, `and not stuck: ${move.elapsedMs} ms`)
})

simTest(t, 'the same move with no migration rate is far quicker than the paced floor', async (world, t) => {
  const move = await moveHalf(world, t)
  t.ok(move.elapsedMs < pacedFloorMs(move) / 2, `${move.movedBytes} bytes moved in ${move.elapsedMs} ms (paced floor ${pacedFloorMs(move)} ms)`)
})
