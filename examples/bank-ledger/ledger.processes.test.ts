// The ledger as three real `lograft node --machine` processes with LevelDB, clients moving money
// while nodes are SIGKILLed and restarted: afterwards (read through a fresh client) no balance is
// negative, the sum is what was deposited, and every balance is exactly what the acknowledged
// transfers add up to — no transfer lost or applied twice across the crashes.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { MachineClerk, TcpTransport, silentLogger } from 'lograft'
import { LocalMachineCluster } from 'lograft/testing'
import { type LedgerCommand, type LedgerResult, type LedgerState, machine } from './ledger-machine.js'

t.setTimeout(120_000)
const ACCOUNTS = ['alice', 'bob', 'carol']
const OPENING_CENTS = 1_000_000
const KILLS = 4
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const MACHINE = fileURLToPath(new URL('./ledger-machine.js', import.meta.url))
const directory = mkdtempSync(join(tmpdir(), 'lograft-ledger-'))
const cluster = await LocalMachineCluster.start({ machinePath: MACHINE, dataDirectory: directory })
const transports: TcpTransport[] = []
t.teardown(async () => {
  await Promise.all(transports.map((transport) => transport.close()))
  await cluster.stopAll()
  rmSync(directory, { recursive: true, force: true })
})

async function clerk(name: string): Promise<MachineClerk<LedgerState, LedgerCommand, LedgerResult>> {
  const transport = await TcpTransport.start({ self: name, logger: silentLogger })
  transports.push(transport)
  // No deadline: a clerk retries until it hears, so every outcome is known.
  return new MachineClerk(machine, { transport, servers: cluster.addresses, rpcTimeoutMs: 500, retryPauseMs: 50 })
}

t.test('balances add up exactly to the acknowledged transfers, through SIGKILLs of any node', async (t) => {
  const setup = await clerk('setup')
  for (const account of ACCOUNTS) {
    await setup.execute({ op: 'open', account })
    await setup.execute({ op: 'deposit', account, cents: OPENING_CENTS })
  }
  const expected = new Map(ACCOUNTS.map((account) => [account, OPENING_CENTS]))
  let transfers = 0
  let stopped = false
  const clients = ACCOUNTS.map(async (owner) => {
    const own = await clerk(`client-${owner}`)
    while (!stopped) {
      const to = ACCOUNTS[(ACCOUNTS.indexOf(owner) + 1 + Math.floor(Math.random() * (ACCOUNTS.length - 1))) % ACCOUNTS.length] as string
      const cents = 1 + Math.floor(Math.random() * 5000)
      const result = await own.execute({ op: 'transfer', from: owner, to, cents })
      if (result.ok) {
        transfers++
        expected.set(owner, (expected.get(owner) as number) - cents)
        expected.set(to, (expected.get(to) as number) + cents)
      }
    }
  })
  for (let kill = 0; kill < KILLS; kill++) {
    await pause(800)
    const victim = cluster.nodes[Math.floor(Math.random() * cluster.nodes.length)]?.id ?? '1'
    await cluster.kill(victim)
    await pause(300)
    await cluster.start(victim)
  }
  stopped = true
  await Promise.all(clients)
  const audit = await (await clerk('auditor')).execute({ op: 'audit' })

  t.ok(transfers >= 20, `${transfers} transfers through ${KILLS} kills`)
  t.ok(
    Object.values(audit.balances ?? {}).every((cents) => cents >= 0),
    'no balance is negative',
  )
  t.equal(audit.totalCents, ACCOUNTS.length * OPENING_CENTS, 'no money made or lost')
  t.same(audit.balances, Object.fromEntries(expected), 'every balance is what the acknowledged transfers add up to')

  // Replaying a stopped node's log with the machine gives the state the cluster served.
  await Promise.all(transports.splice(0).map((transport) => transport.close()))
  await cluster.stopAll()
  // A node restarted just before the end may not have learned the last commits; the one that
  // knows the most (the last leader saves its commit index when it stops) holds them all.
  const commitIndexOf = (directory: string): number =>
    (JSON.parse(lograft('log', 'inspect', directory, '--json', '--to', '0').split('\n')[0] as string) as { hardState: { commitIndex: number } }).hardState
      .commitIndex
  const dataDirectory = cluster.nodes
    .map((node) => node.dataDirectory)
    .reduce((best, directory) => (commitIndexOf(directory) > commitIndexOf(best) ? directory : best))
  const header = { hardState: { commitIndex: commitIndexOf(dataDirectory) } }
  const replayed = JSON.parse(lograft('log', 'replay', dataDirectory, '--to', String(header.hardState.commitIndex), '--machine', MACHINE, '--json')) as {
    state: { balances: Record<string, number> }
  }
  t.same(replayed.state.balances, audit.balances, 'lograft log replay --machine gives the same balances')
  const inspected = lograft('log', 'inspect', dataDirectory, '--machine', MACHINE, '--from', '1', '--to', '3')
  t.match(inspected, /"op":"open","account":"alice"/, 'log inspect --machine shows the commands')
  t.match(
    lograft('log', 'inspect', dataDirectory, '--machine', 'raw', '--from', '1', '--to', '1'),
    /command\s+\d+\s+\d+\s+[0-9a-f]+/,
    'and --machine raw their bytes',
  )
})

/** The compiled lograft command line, run to completion; its standard output. */
function lograft(...args: string[]): string {
  return execFileSync(process.execPath, [fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)), ...args], { encoding: 'utf8' })
}
