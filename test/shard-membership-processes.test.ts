// Shard replica groups change members the same way (issue 12), on real processes: a new server joins
// a running group with --listen/--join and is promoted, and the controller's configurations follow
// the group's server list (the group's leader tells the controller); then a server is removed and
// the list follows again. Keys written before are read back through the new server throughout.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { eventually, freePortBlock, lograft, respCommand } from './helpers/kv-processes.js'
import { infoFields } from '../src/cli/resp-probe.js'
import { GROUP_SERVER_NODE_OPTIONS } from '../src/cli/shard-layout.js'
import { startShardDeployment } from './helpers/shard-processes.js'

t.setTimeout(120_000)

const GID = 100
const shard = await startShardDeployment({ controllerServers: 1, gids: [GID], serversPerGroup: 3 })
t.teardown(() => shard.stop(!t.passing()))
const { deployment } = shard
const controller = deployment.layout.controllerAddresses.join(',')
const group = deployment.layout.groups[0]
if (!group) throw new Error('no group')

async function groupServers(): Promise<string[]> {
  const query = await lograft('shard', 'query', '--controller', controller, '--json')
  const config = JSON.parse(query.stdout.toString()) as { groups: Record<string, string[]> }
  return [...(config.groups[String(GID)] ?? [])].sort()
}

t.test("a server joins a running group and the controller's configuration follows the group's servers", async (t) => {
  await deployment.join([GID])
  const firstPort = Number(group.servers[0]?.respAddress?.split(':')[1])
  for (let i = 0; i < 20; i++) t.equal(await respCommand(firstPort, 'SET', `key${i}`, `value${i}`), 'OK')

  const base = await freePortBlock(2)
  const [raftPort, respPort] = [base + 1, base + 2]
  const address = `127.0.0.1:${raftPort}`
  const dataDirectory = join(shard.dataDirectory, `group-${GID}`, 'node-4')
  await deployment.supervisor.start({
    id: `g${GID}-4`,
    args: [
      'shard',
      'group',
      '--gid',
      String(GID),
      '--id',
      '4',
      '--listen',
      address,
      '--join',
      group.addresses[0] as string,
      '--controller',
      controller,
      '--data',
      dataDirectory,
      '--resp',
      `127.0.0.1:${respPort}`,
    ],
    readyText: `lograft shard group ${GID}/4 ready`,
    dataDirectory,
  })
  t.ok(await eventually(async () => (await groupServers()).includes(address), 30_000), 'the controller names the new server')
  t.same(await groupServers(), [...group.addresses, address].sort(), 'next to the others')
  for (let i = 0; i < 20; i++) t.equal(await respCommand(respPort, 'GET', `key${i}`), `value${i}`, `key${i} through the new server`)

  const removed = group.addresses[1] as string
  const members = await lograft('member', 'remove', '2', '--via', address)
  t.equal(members.code, 0, members.stderr)
  const left = await eventually(async () => !(await groupServers()).includes(removed), 30_000)
  t.ok(left, "a removed server leaves the controller's list")
  if (!left) {
    for (const id of [...group.servers.map((server) => server.id), `g${GID}-4`]) t.comment(`${id}:\n${deployment.supervisor.recentErrorOutput(id)}`)
  }
  t.equal(await respCommand(respPort, 'SET', 'after', 'removal'), 'OK')
})

t.test("a group server's INFO gives its longest event-loop stall and busy time, and CONFIG RESETSTAT answers", async (t) => {
  const port = Number(group.servers[0]?.respAddress?.split(':')[1])
  const numbers = async (): Promise<number[]> => {
    const fields = await infoFields(port)
    return ['eventloop_delay_max_ms', 'eventloop_busy_max_ms'].map((name) => Number(fields?.get(name)))
  }
  const [delayMs, busyMs] = await numbers()
  t.ok(Number.isFinite(delayMs) && (delayMs as number) > 0, `eventloop_delay_max_ms is ${delayMs}`)
  // Starting the server (opening LevelDB, replaying the log) is work on its event loop.
  t.ok(Number.isFinite(busyMs) && (busyMs as number) > 0, `eventloop_busy_max_ms is ${busyMs}`)
  t.equal(await respCommand(port, 'CONFIG', 'RESETSTAT'), 'OK')
  const after = await numbers()
  t.ok(
    after.every((ms) => Number.isFinite(ms) && ms >= 0),
    `after CONFIG RESETSTAT, delay ${after[0]} ms and busy ${after[1]} ms (a new window; the stalls are measured in test/event-loop-stalls)`,
  )
})

t.test('a group server runs with the young generation sized for moving shards', async (t) => {
  const pid = deployment.supervisor.pid(group.servers[0]?.id as string)
  if (pid === null) throw new Error('the first group server is not running')
  const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')
  for (const option of GROUP_SERVER_NODE_OPTIONS) t.ok(commandLine.includes(option), `${option} in ${commandLine.join(' ')}`)
  t.ok(
    commandLine.indexOf(GROUP_SERVER_NODE_OPTIONS[0] as string) < commandLine.findIndex((word) => word.endsWith('main.js')),
    'given to Node, before the script',
  )
})
