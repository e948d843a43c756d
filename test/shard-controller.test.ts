// MIT 6.5840 Lab 5A (the shard controller) on the simulated network, with the lab's vacuous checks
// made real: minimal transfers are checked against the groups actually present, and the
// same-config check waits for the new leader.
import t, { type Test } from 'tap'
import { type ShardConfig, groupIds } from '../src/shard/config.js'
import { sleep } from '../src/base/clock.js'
import { ControllerCluster, type ControllerClerk } from '../src/testing/controller-cluster.js'
import { simTest } from './helpers/sim.js'

const SHARDS = 10
const limits = { maxVirtualMs: 300_000 }

/** The lab's check(): the latest config has exactly `groups`, every shard on one of them, balanced. */
async function check(t: Test, groups: readonly number[], clerk: ControllerClerk): Promise<ShardConfig> {
  const config = await clerk.query(-1)
  t.same(
    groupIds(config),
    [...groups].sort((a, b) => a - b),
    `config ${config.num} has groups [${groups.join(', ')}]`,
  )
  if (groups.length > 0) {
    const invalid = config.shards.filter((gid) => !groups.includes(gid))
    t.same(invalid, [], 'every shard is on a present group')
    const counts = groups.map((gid) => config.shards.filter((owner) => owner === gid).length)
    t.ok(Math.max(...counts) <= Math.min(...counts) + 1, `balanced: shards per group ${counts.join('/')}`)
  }
  return config
}

/** Shards that changed owner from `before` to `after`. */
function moved(before: ShardConfig, after: ShardConfig): number[] {
  return before.shards.flatMap((gid, shard) => (after.shards[shard] !== gid ? [shard] : []))
}

/** After joins, shards move only to the new groups; the lab's check, against the groups present. */
function checkMinimalAfterJoin(t: Test, before: ShardConfig, after: ShardConfig): void {
  const existing = groupIds(before)
  const movedToOld = moved(before, after).filter(
    (shard) => existing.includes(after.shards[shard] as number) && existing.includes(before.shards[shard] as number),
  )
  t.same(movedToOld, [], `after joins no shard moved between groups that were already there (${moved(before, after).length} moved)`)
}

/** After leaves, shards move only away from the groups that left. */
function checkMinimalAfterLeave(t: Test, before: ShardConfig, after: ShardConfig): void {
  const remaining = groupIds(after)
  const movedFromRemaining = moved(before, after).filter((shard) => remaining.includes(before.shards[shard] as number))
  t.same(movedFromRemaining, [], `after leaves no shard moved away from a group that stayed (${moved(before, after).length} moved)`)
}

simTest(
  t,
  'Basic',
  async (world, t) => {
    const cluster = await ControllerCluster.create(world, { servers: 3, shardCount: SHARDS })
    const clerk = cluster.makeClient()
    const history: ShardConfig[] = [await clerk.query(-1)]
    await check(t, [], clerk)
    await clerk.join({ 1: ['x', 'y', 'z'] })
    history.push(await check(t, [1], clerk))
    await clerk.join({ 2: ['a', 'b', 'c'] })
    history.push(await check(t, [1, 2], clerk))
    const both = await clerk.query(-1)
    t.same(both.groups[1], ['x', 'y', 'z'], 'servers of gid 1')
    t.same(both.groups[2], ['a', 'b', 'c'], 'servers of gid 2')
    await clerk.leave([1])
    history.push(await check(t, [2], clerk))
    await clerk.leave([2])
    history.push(await clerk.query(-1))

    // Historical queries, with each server in turn down and back.
    for (let server = 0; server < 3; server++) {
      cluster.shutdownServer(server)
      for (const config of history) t.same(await clerk.query(config.num), config, `config ${config.num} unchanged while server ${server} is down`)
      await cluster.startServer(server)
      cluster.connectAll()
    }

    // Move.
    await clerk.join({ 503: ['3a', '3b', '3c'] })
    await clerk.join({ 504: ['4a', '4b', '4c'] })
    for (let shard = 0; shard < SHARDS; shard++) {
      const before = await clerk.query(-1)
      const gid = shard < SHARDS / 2 ? 503 : 504
      await clerk.move(shard, gid)
      if (before.shards[shard] !== gid) t.ok((await clerk.query(-1)).num > before.num, `moving shard ${shard} made a new config`)
    }
    const afterMoves = await clerk.query(-1)
    t.same(
      afterMoves.shards,
      Array.from({ length: SHARDS }, (_, shard) => (shard < SHARDS / 2 ? 503 : 504)),
      'every shard where it was moved',
    )
    const badMove = await clerk.move(SHARDS, 503)
    t.match(badMove.error, /no shard 10/, 'a move of a shard that does not exist is refused')
    await clerk.leave([503])
    await clerk.leave([504])

    // Concurrent leave/join.
    const gids = Array.from({ length: 10 }, (_, i) => i * 10 + 100)
    await Promise.all(
      gids.map(async (gid) => {
        const mine = cluster.makeClient()
        await mine.join({ [gid + 1000]: [`s${gid}a`] })
        await mine.join({ [gid]: [`s${gid}b`] })
        await mine.leave([gid + 1000])
      }),
    )
    await check(t, gids, clerk)

    // Minimal transfers after joins and after leaves.
    const c1 = await clerk.query(-1)
    for (let i = 0; i < 5; i++) await clerk.join({ [11 + i]: [`${11 + i}a`, `${11 + i}b`] })
    const c2 = await clerk.query(-1)
    checkMinimalAfterJoin(t, c1, c2)
    for (let i = 0; i < 5; i++) await clerk.leave([11 + i])
    const c3 = await clerk.query(-1)
    checkMinimalAfterLeave(t, c2, c3)
    await check(t, gids, clerk)
    cluster.shutdownAll()
  },
  limits,
)

simTest(
  t,
  'MinimalAgain (a join then a leave each move at most NShards/3 + 1 shards)',
  async (world, t) => {
    const cluster = await ControllerCluster.create(world, { servers: 3, shardCount: SHARDS })
    const clerk = cluster.makeClient()
    await clerk.join({ 1: ['a'], 2: ['b'], 3: ['c'] })
    const base = await check(t, [1, 2, 3], clerk)
    const bound = Math.floor(SHARDS / 3) + 1
    await clerk.join({ 4: ['d'] })
    const joined = await check(t, [1, 2, 3, 4], clerk)
    t.ok(moved(base, joined).length <= bound, `the join moved ${moved(base, joined).length} shards (≤ ${bound})`)
    checkMinimalAfterJoin(t, base, joined)
    await clerk.leave([2])
    const left = await check(t, [1, 3, 4], clerk)
    t.ok(moved(joined, left).length <= bound, `the leave moved ${moved(joined, left).length} shards (≤ ${bound})`)
    checkMinimalAfterLeave(t, joined, left)
    await clerk.join({ 2: ['b2'] })
    const rejoined = await check(t, [1, 2, 3, 4], clerk)
    t.same(rejoined.groups[2], ['b2'], 'a gid may rejoin after leaving, with new servers')
    checkMinimalAfterJoin(t, left, rejoined)
    cluster.shutdownAll()
  },
  limits,
)

simTest(
  t,
  'Multi',
  async (world, t) => {
    const cluster = await ControllerCluster.create(world, { servers: 3, shardCount: SHARDS })
    const clerk = cluster.makeClient()
    await check(t, [], clerk)
    await clerk.join({ 1: ['x', 'y', 'z'], 2: ['a', 'b', 'c'] })
    await check(t, [1, 2], clerk)
    await clerk.join({ 3: ['j', 'k', 'l'] })
    const three = await check(t, [1, 2, 3], clerk)
    t.same(
      [three.groups[1], three.groups[2], three.groups[3]],
      [
        ['x', 'y', 'z'],
        ['a', 'b', 'c'],
        ['j', 'k', 'l'],
      ],
      'servers of each group',
    )
    await clerk.leave([1, 3])
    const one = await check(t, [2], clerk)
    t.same(one.groups[2], ['a', 'b', 'c'], 'gid 2 keeps its servers')
    await clerk.leave([2])

    // Concurrent multi leave/join.
    const gids = Array.from({ length: 10 }, (_, i) => i + 1000)
    await Promise.all(
      gids.map(async (gid) => {
        const mine = cluster.makeClient()
        await mine.join({ [gid]: [`${gid}a`, `${gid}b`, `${gid}c`], [gid + 1000]: [`${gid + 1000}a`], [gid + 2000]: [`${gid + 2000}a`] })
        await mine.leave([gid + 1000, gid + 2000])
      }),
    )
    await check(t, gids, clerk)

    // Minimal transfers after multijoins and multileaves.
    const c1 = await clerk.query(-1)
    const joins: Record<number, string[]> = {}
    for (let i = 0; i < 5; i++) joins[11 + i] = [`${11 + i}a`, `${11 + i}b`]
    await clerk.join(joins)
    const c2 = await clerk.query(-1)
    checkMinimalAfterJoin(t, c1, c2)
    await clerk.leave([11, 12, 13, 14, 15])
    const c3 = await clerk.query(-1)
    checkMinimalAfterLeave(t, c2, c3)

    // The same config on the servers: the leader's answer survives its shutdown.
    const leader = cluster.leader()
    t.not(leader, null, 'a leader exists')
    const before = await clerk.query(-1)
    cluster.shutdownServer(leader as number)
    let newLeader: number | null = null
    for (let attempt = 0; attempt < 10 && (newLeader === null || newLeader === leader); attempt++) {
      await sleep(world.clock, 500)
      newLeader = cluster.leader()
    }
    t.ok(newLeader !== null && newLeader !== leader, `a new leader (${String(newLeader)}) took over`)
    t.same(await clerk.query(-1), before, 'and serves the same latest config')
    cluster.shutdownAll()
  },
  limits,
)
