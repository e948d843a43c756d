// The ledger on lograft's simulator: three replicas on an unreliable network under a nemesis,
// clients moving money between accounts at random (many transfers refused for lack of funds).
// Afterwards no balance is negative, money was neither made nor lost, and every balance is exactly
// what the transfers the clients saw succeed add up to: each happened once, none twice.

import t, { type Test } from 'tap'
import { sleep } from 'lograft'
import { MachineCluster, simTest, startNemesis } from 'lograft/testing'
import { type LedgerResult, machine } from './ledger-machine.js'

const ACCOUNTS = ['alice', 'bob', 'carol', 'dave']
const OPENING_CENTS = 10_000

simTest<Test>(
  t,
  'the ledger never overdraws and never makes or loses money, through faults',
  async (world, t) => {
    const cluster = await MachineCluster.create(world, { machine, servers: 3, unreliable: true, latencyMs: [2, 8], maxRaftStateBytes: 4000 })
    const setup = cluster.makeClerk()
    for (const account of ACCOUNTS) {
      await setup.execute({ op: 'open', account })
      await setup.execute({ op: 'deposit', account, cents: OPENING_CENTS })
    }
    const nemesis = startNemesis(world, cluster, { periodMs: 700 })
    let done = false
    // What the clients saw succeed; the clerks retry until they hear, so no outcome is unknown.
    const expected = new Map(ACCOUNTS.map((account) => [account, OPENING_CENTS]))
    let transfers = 0
    const clients = ACCOUNTS.map(async (owner) => {
      const clerk = cluster.makeClerk()
      while (!done) {
        const to = ACCOUNTS[world.rng.int(ACCOUNTS.length)] as string
        if (to === owner) continue
        const cents = 1 + world.rng.int(3000)
        const result = await clerk.execute({ op: 'transfer', from: owner, to, cents })
        if (result.ok) {
          transfers++
          expected.set(owner, (expected.get(owner) as number) - cents)
          expected.set(to, (expected.get(to) as number) + cents)
        }
        await sleep(world.clock, world.rng.int(50))
      }
    })
    await sleep(world.clock, 8000)
    done = true
    await nemesis.stop()
    await Promise.all(clients)
    const audit: LedgerResult = await setup.execute({ op: 'audit' })

    t.ok(transfers > 20, `${transfers} transfers went through under ${nemesis.history.length} faults`)
    t.ok(
      Object.values(audit.balances ?? {}).every((cents) => cents >= 0),
      `no balance is negative: ${JSON.stringify(audit.balances)}`,
    )
    t.equal(audit.totalCents, ACCOUNTS.length * OPENING_CENTS, 'the sum of balances is what was deposited')
    t.equal(audit.depositedCents, ACCOUNTS.length * OPENING_CENTS)
    t.same(audit.balances, Object.fromEntries(expected), 'every balance is what the acknowledged transfers add up to')
    cluster.shutdownAll()
  },
  { maxVirtualMs: 120_000 },
)
