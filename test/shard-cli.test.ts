// `lograft shard`: bad input is a usage error (exit 2) with one clear line, and the admin commands
// change and show a real controller's configurations.

import { join } from 'node:path'
import t from 'tap'
import { openDiskLog } from '../src/log/index.js'
import type { ShardConfig } from '../src/shard/config.js'
import { makeTempDir } from './helpers/log.js'
import { lograft } from './helpers/kv-processes.js'
import { startShardDeployment } from './helpers/shard-processes.js'

t.test('bad input to lograft shard is a usage error (exit 2) that says what is wrong', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['shard', 'frobnicate'], /unknown shard command "frobnicate"/],
    [['shard', 'group', '--gid', '100', '--id', '1'], /shard group needs --gid, --id, --data and --controller/],
    [['shard', 'controller', '--id', '1', '--peers', '1=nowhere', '--data', '/tmp/x'], /--peers: peer 1: "nowhere" is not a host:port address/],
    [['shard', 'query', '--controller', '127.0.0.1:7201,nonsense'], /--controller: not a host:port address: "nonsense"/],
    [['shard', 'join', '--controller', '127.0.0.1:7201', '--gid', '0', '--servers', '127.0.0.1:7301'], /--gid must be an integer ≥ 1, got "0"/],
    [
      ['shard', 'join', '--controller', '127.0.0.1:7201', '--gid', '100', '--servers', '127.0.0.1:7301,127.0.0.1:7301'],
      /--servers: an address is listed twice/,
    ],
    [['shard', 'move', '--controller', '127.0.0.1:7201', '--shard', '10', '--gid', '100'], /--shard must be below 10, got 10/],
    [['shard', 'leave', '--controller', '127.0.0.1:7201'], /shard leave needs --controller and --gid/],
    [
      [
        'shard',
        'group',
        '--gid',
        '100',
        '--id',
        '1',
        '--peers',
        '1=127.0.0.1:7301',
        '--data',
        '/nonexistent',
        '--controller',
        '127.0.0.1:7201',
        '--max-migration-rate',
        '0',
      ],
      /--max-migration-rate must be an integer ≥ 1, got "0"/,
    ],
  ]
  for (const [args, message] of cases) {
    const run = await lograft(...args)
    t.equal(run.code, 2, `${args.join(' ')}: exit 2`)
    t.match(run.stderr.split('\n')[0], message, `${args.join(' ')}: ${message}`)
  }
})

t.test('join, move, leave and query change and show the configurations of a running controller', async (t) => {
  const controller = await startShardDeployment({ controllerServers: 1, gids: [], serversPerGroup: 0 })
  t.teardown(() => controller.stop(false))
  const address = controller.deployment.layout.controllerAddresses.join(',')

  const joined = await lograft('shard', 'join', '--controller', address, '--gid', '100', '--servers', '127.0.0.1:7301,127.0.0.1:7302')
  t.equal(joined.code, 0, joined.stderr)
  t.match(
    joined.stdout.toString(),
    /^config 1: 10 shards, 1 group\nshard +0 +1 .* 9\ngid +100 +100 .* 100\ngroups:\n {2}100: 127\.0\.0\.1:7301, 127\.0\.0\.1:7302\n$/,
  )
  t.equal((await lograft('shard', 'join', '--controller', address, '--gid', '101', '--servers', '127.0.0.1:7311')).code, 0)

  const moved = await lograft('shard', 'move', '--controller', address, '--shard', '0', '--gid', '101')
  t.equal(moved.code, 0, moved.stderr)
  const refused = await lograft('shard', 'move', '--controller', address, '--shard', '0', '--gid', '999')
  t.equal(refused.code, 1)
  t.match(refused.stderr, /move refused: no group 999 in configuration 3/)

  const query = await lograft('shard', 'query', '--controller', address, '--json')
  const latest = JSON.parse(query.stdout.toString()) as ShardConfig
  t.equal(latest.num, 3)
  t.equal(latest.shards[0], 101, 'shard 0 moved to group 101')
  t.same(Object.keys(latest.groups), ['100', '101'])

  const left = await lograft('shard', 'leave', '--controller', address, '--gid', '101')
  t.equal(left.code, 0, left.stderr)
  const unknown = await lograft('shard', 'leave', '--controller', address, '--gid', '101')
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /group 101 is not in configuration 4 \(groups: 100\)/)

  const old = JSON.parse((await lograft('shard', 'query', '--controller', address, '--num', '2', '--json')).stdout.toString()) as ShardConfig
  t.equal(old.num, 2)
  t.same(old.shards.filter((gid) => gid === 101).length, 5, 'configuration 2 gave group 101 half the shards')
  const future = await lograft('shard', 'query', '--controller', address, '--num', '9')
  t.equal(future.code, 1)
  t.match(future.stderr, /there is no configuration 9 yet \(the latest is 4\)/)
})

t.test("a shard server refuses another group's or another deployment's data directory, and a new one without --cluster-id", async (t) => {
  const data = makeTempDir('shard-cli')
  t.teardown(() => data.remove())
  const store = await openDiskLog(data.path, { identity: { clusterId: 'd1:group-100', nodeId: '1' } })
  await store.close()
  const group = (...extra: string[]) =>
    lograft('shard', 'group', '--id', '1', '--peers', '1=127.0.0.1:1', '--data', data.path, '--controller', '127.0.0.1:2', ...extra)
  const otherGroup = await group('--gid', '101')
  t.equal(otherGroup.code, 1)
  t.match(otherGroup.stderr, /belongs to node 1 of cluster d1:group-100, not node 1 of a shard deployment's group-101/)
  const otherDeployment = await group('--gid', '100', '--cluster-id', 'd2')
  t.match(otherDeployment.stderr, /belongs to node 1 of cluster d1:group-100, not node 1 of cluster d2:group-100/)
  const asController = await lograft('shard', 'controller', '--id', '1', '--peers', '1=127.0.0.1:1', '--data', data.path)
  t.match(asController.stderr, /not node 1 of a shard deployment's controller/)
  const fresh = await lograft('shard', 'controller', '--id', '1', '--peers', '1=127.0.0.1:1', '--data', join(data.path, 'fresh'))
  t.match(fresh.stderr, /is new and no cluster id was given/)
})
