// A data directory from another cluster (issue 11, finding 3), against real processes: cluster A's
// node 2 is restarted on cluster B's node-2 directory. With --cluster-id it is refused at start in
// one line; without, it runs as the member of B its directory says it is, and A's members refuse
// it at the handshake (logged on both sides) while A goes on, its term steady and its data intact.

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { freePortBlock, infoFields, lograft, pause, respCommand, respPort, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))

const a = await startKvCluster(3)
t.teardown(() => a.stop(false))
const b = await startKvCluster(3)
t.teardown(() => b.stop(false))

t.test("a node restarted on another cluster's directory is refused, and the cluster it tries to join goes on", async (t) => {
  const leader = await waitForLeader(a.cluster, 15_000)
  if (!(await waitForLeader(b.cluster, 15_000)) || !leader) throw new Error('no leaders')
  t.equal(await respCommand(respPort(leader), 'SET', 'k', 'from A'), 'OK')
  const victim = a.nodes.find((node) => node.id !== leader.id)
  const foreign = b.nodes.find((node) => node.id === victim?.id)
  if (!victim || !foreign) throw new Error('no follower')
  await a.cluster.kill(victim.id)
  await b.cluster.kill(foreign.id)

  const explicit = await lograft(
    'node',
    '--id',
    victim.id,
    '--peers',
    a.cluster.layout.peers,
    '--cluster-id',
    a.cluster.layout.clusterId,
    '--data',
    foreign.dataDirectory,
  )
  t.equal(explicit.code, 1)
  t.match(
    explicit.stderr,
    new RegExp(
      `^lograft: log store .* belongs to node ${victim.id} of cluster ${b.cluster.layout.clusterId}, not node ${victim.id} of cluster ${a.cluster.layout.clusterId}`,
    ),
  )

  const termBefore = (await infoFields(respPort(leader)))?.get('term')
  const respAddress = `127.0.0.1:${(await freePortBlock(1)) + 1}`
  const intruder = spawn(
    process.execPath,
    [MAIN, 'node', '--id', victim.id, '--peers', a.cluster.layout.peers, '--data', foreign.dataDirectory, '--resp', respAddress],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let intruderLog = ''
  intruder.stderr.on('data', (chunk: Buffer) => (intruderLog += chunk.toString()))
  t.teardown(() => intruder.kill('SIGKILL'))
  await pause(3000)

  t.match(
    intruderLog,
    new RegExp(`cannot use the connection to peer .*refused: cluster ${b.cluster.layout.clusterId} is not this node's cluster ${a.cluster.layout.clusterId}`),
    'the intruder is told why',
  )
  t.match(a.cluster.recentLog(leader.id), new RegExp(`refused a connection .*cluster="${b.cluster.layout.clusterId}"`), "A's leader logs the refusal")
  const after = await infoFields(respPort(leader))
  t.equal(after?.get('role'), 'leader', 'the leader is still leader')
  t.equal(after?.get('term'), termBefore, 'no election was disturbed')
  t.equal(await respCommand(respPort(leader), 'GET', 'k'), 'from A')
  t.equal(await respCommand(respPort(leader), 'SET', 'k2', 'still A'), 'OK')
})
