// A data directory from another cluster (issue 11, finding 3), against real processes: cluster A's
// node 2 is restarted on cluster B's node-2 directory. With --cluster-id it is refused at start in
// one line. Without, given A's peers, it says those are ignored: its directory's configuration
// names its members, so it is B's node 2 again. Listening at A's node-2 address, it and A's members
// refuse each other at the handshake (logged on both sides) while A goes on, its term steady and
// its data intact.

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { eventually, freePortBlock, infoFields, lograft, respCommand, respPort, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

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
    [
      MAIN,
      'node',
      '--id',
      victim.id,
      '--peers',
      a.cluster.layout.peers,
      '--listen',
      victim.raftAddress,
      '--data',
      foreign.dataDirectory,
      '--resp',
      respAddress,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let intruderLog = ''
  intruder.stderr.on('data', (chunk: Buffer) => (intruderLog += chunk.toString()))
  t.teardown(() => intruder.kill('SIGKILL'))
  // A's leader calls its node 2 on its next heartbeat, and the intruder answers at that address:
  // wait for the refusal on both sides (under load it can take a few seconds to start).
  const ignored = /already belongs to a cluster: its members come from its log, and the peers given are ignored/
  const refused = new RegExp(`refused a connection .*cluster="${a.cluster.layout.clusterId}"`)
  const told = new RegExp(
    `cannot use the connection to peer peer="${victim.id}".*refused: cluster ${a.cluster.layout.clusterId} is not this node's cluster ${b.cluster.layout.clusterId}`,
  )
  await eventually(() => refused.test(intruderLog) && told.test(a.cluster.recentLog(leader.id)), 20_000)

  t.match(intruderLog, ignored, "the intruder says A's peers are ignored")
  t.match(intruderLog, refused, "the intruder refuses A's leader")
  t.match(a.cluster.recentLog(leader.id), told, "A's leader is told why")
  const after = await infoFields(respPort(leader))
  t.equal(after?.get('role'), 'leader', 'the leader is still leader')
  t.equal(after?.get('term'), termBefore, 'no election was disturbed')
  t.equal(await respCommand(respPort(leader), 'GET', 'k'), 'from A')
  t.equal(await respCommand(respPort(leader), 'SET', 'k2', 'still A'), 'OK')
})
