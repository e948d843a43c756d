// The lock service as three real `lograft node --machine` processes with LevelDB, while clients
// take and give back the lock and nodes are SIGKILLed and restarted: no grant is lost or doubled
// (fencing tokens grow), and the history is linearizable against the lock's model.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ClerkDeadlineError, MachineClerk, TcpTransport, silentLogger } from 'lograft'
import { HistoryRecorder, LocalMachineCluster, checkOperations, formatReport } from 'lograft/testing'
import { type LockCommand, type LockResult, machine } from './lock-machine.js'
import { lockModel } from './lock-model.js'

t.setTimeout(120_000)
const KILLS = 4
const CLIENTS = 3
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const directory = mkdtempSync(join(tmpdir(), 'lograft-lock-service-'))
const cluster = await LocalMachineCluster.start({ machinePath: fileURLToPath(new URL('./lock-machine.js', import.meta.url)), dataDirectory: directory })
t.teardown(async () => {
  await cluster.stopAll()
  rmSync(directory, { recursive: true, force: true })
})

t.test('locks are granted once each, in token order, through SIGKILLs of any node', async (t) => {
  const history = new HistoryRecorder<LockCommand, LockResult>()
  const grants: LockResult[] = []
  let stopped = false
  const clients = Array.from({ length: CLIENTS }, async (_, id) => {
    const transport = await TcpTransport.start({ self: `client-${id}`, logger: silentLogger })
    const clerk = new MachineClerk(machine, { transport, servers: cluster.addresses, rpcTimeoutMs: 500, retryPauseMs: 50, deadlineMs: 5000 })
    const call = async (command: LockCommand): Promise<LockResult | null> => {
      const pending = history.begin(id, command, performance.now())
      try {
        const result = await clerk.execute(command)
        pending.end(result, performance.now())
        return result
      } catch (error) {
        if (!(error instanceof ClerkDeadlineError)) throw error
        pending.giveUp() // Unknown outcome: it may have taken effect.
        return null
      }
    }
    while (!stopped) {
      const granted = await call({ op: 'acquire', lock: 'L', owner: `client-${id}`, ttlMs: 2000 })
      if (granted?.ok) {
        grants.push(granted)
        await call({ op: 'release', lock: 'L', owner: `client-${id}`, token: granted.token })
      } else {
        await pause(20)
      }
    }
    await transport.close()
  })
  for (let kills = 0; kills < KILLS; kills++) {
    await pause(1000)
    const victim = cluster.nodes[Math.floor(Math.random() * cluster.nodes.length)]?.id ?? '1'
    await cluster.kill(victim)
    await pause(300)
    await cluster.start(victim)
  }
  stopped = true
  await Promise.all(clients)

  grants.sort((a, b) => a.token - b.token)
  t.ok(grants.length >= 10, `${grants.length} grants through ${KILLS} kills`)
  t.same(new Set(grants.map((grant) => grant.token)).size, grants.length, 'no token was granted twice')
  const check = checkOperations(lockModel, history.operations())
  t.equal(check.outcome, 'ok', check.outcome === 'illegal' ? formatReport(check) : `${history.operations().length} operations linearizable`)
})
