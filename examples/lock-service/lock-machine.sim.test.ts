// The lock service on lograft's simulator: five replicas on an unreliable network, partitioned and
// crashed by a nemesis, while clients take the lock, use it, and give it back. The history must be
// linearizable against the lock's sequential model (no grant while another lease is live, log time
// moving forward), and the fencing tokens of successive holders must grow.

import t, { type Test } from 'tap'
import { HistoryRecorder, MachineCluster, checkOperations, formatReport, simTest, startNemesis } from 'lograft/testing'
import type { SimWorld } from 'lograft/sim'
import { sleep } from 'lograft'
import { type LockCommand, type LockResult, type LockState, machine } from './lock-machine.js'
import { lockModel } from './lock-model.js'

const CLIENTS = 4
const TTL_MS = 1500
const RUN_MS = 12_000

async function client(
  world: SimWorld,
  cluster: MachineCluster<LockState, LockCommand, LockResult>,
  id: number,
  history: HistoryRecorder<LockCommand, LockResult>,
  done: () => boolean,
): Promise<LockResult[]> {
  const clerk = cluster.makeClerk()
  const owner = `client-${id}`
  const grants: LockResult[] = []
  const call = async (command: LockCommand): Promise<LockResult> => {
    const pending = history.begin(id, command, world.clock.now())
    const result = await clerk.execute(command)
    pending.end(result, world.clock.now())
    return result
  }
  while (!done()) {
    const granted = await call({ op: 'acquire', lock: 'L', owner, ttlMs: TTL_MS })
    if (granted.ok) {
      grants.push(granted)
      await call({ op: 'holder', lock: 'L' })
      await sleep(world.clock, world.rng.int(300))
      await call({ op: 'release', lock: 'L', owner, token: granted.token })
    } else {
      await sleep(world.clock, 50 + world.rng.int(100))
    }
  }
  return grants
}

simTest<Test>(
  t,
  'the lock service stays safe through partitions, crashes and lost messages',
  async (world, t) => {
    const cluster = await MachineCluster.create(world, { machine, servers: 5, unreliable: true, latencyMs: [2, 8], maxRaftStateBytes: 4000 })
    const history = new HistoryRecorder<LockCommand, LockResult>()
    const nemesis = startNemesis(world, cluster, { periodMs: 800 })
    let done = false
    const clients = Array.from({ length: CLIENTS }, (_, id) => client(world, cluster, id, history, () => done))
    await sleep(world.clock, RUN_MS)
    done = true
    await nemesis.stop()
    const grants = (await Promise.all(clients)).flat().sort((a, b) => a.token - b.token)

    t.ok(grants.length >= 5, `${grants.length} grants under ${nemesis.history.length} faults`)
    for (let i = 1; i < grants.length; i++) {
      const [before, after] = [grants[i - 1] as LockResult, grants[i] as LockResult]
      t.ok(after.token > before.token && after.atMs >= before.atMs, `token ${after.token} was granted after token ${before.token}`)
    }
    const check = checkOperations(lockModel, history.operations())
    t.equal(check.outcome, 'ok', check.outcome === 'illegal' ? formatReport(check) : `${history.operations().length} operations linearizable`)
    cluster.shutdownAll()
  },
  { maxVirtualMs: 120_000 },
)
