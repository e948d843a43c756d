// MIT 6.5840 Lab 2 (the key/value server): exactly-once Put/Append/Get over an unreliable network,
// one server, each history checked for linearizability; and its memory tests.
import t, { type Test } from 'tap'
import { SimServer } from '../src/rpc/sim-network.js'
import { SimTransport } from '../src/rpc/sim-transport.js'
import type { SimWorld } from '../src/sim/world.js'
import { KvClerk } from '../src/kv/kv-clerk.js'
import { KvLocalServer } from '../src/kv/kv-local-server.js'
import { simTest } from './helpers/sim.js'
import { append, appendValue, checkClientAppends, checkConcurrentAppends, checkLinearizable, get, newHistory, put } from './helpers/kv.js'

const SERVER = 'kvsrv'
const limits = { maxVirtualMs: 120_000 }

/** One KV server on the simulated network, and clerks that can come and go (the lab's config). */
class KvServerSetup {
  readonly server: KvLocalServer
  private nextClient = 0
  private readonly clerkEnds = new Map<KvClerk, string>()

  constructor(
    readonly world: SimWorld,
    unreliable: boolean,
  ) {
    this.server = new KvLocalServer(world.clock)
    const simServer = new SimServer()
    this.server.register(new SimTransport({ self: SERVER, server: simServer, ends: new Map(), clock: world.clock }))
    world.network.addServer(SERVER, simServer)
    world.network.setReliable(!unreliable)
    // Clients loop as fast as replies come; a little latency lets virtual time advance meanwhile.
    world.network.setLatency(1, 5)
  }

  makeClient(): KvClerk {
    const name = `client${this.nextClient++}`
    const end = this.world.network.makeEnd(`${name}->${SERVER}`, name)
    this.world.network.connect(end.name, SERVER)
    this.world.network.enable(end.name, true)
    const clerk = new KvClerk({
      transport: new SimTransport({ self: name, server: new SimServer(), ends: new Map([[SERVER, end]]), clock: this.world.clock }),
      servers: [SERVER],
      clientId: this.nextClient,
      clock: this.world.clock,
    })
    this.clerkEnds.set(clerk, end.name)
    return clerk
  }

  deleteClient(clerk: KvClerk): void {
    const end = this.clerkEnds.get(clerk)
    if (end) this.world.network.deleteEnd(end)
    this.clerkEnds.delete(clerk)
  }
}

async function genericTest(world: SimWorld, t: Test, clients: number, unreliable: boolean, randomKeys: boolean): Promise<void> {
  const setup = new KvServerSetup(world, unreliable)
  const history = newHistory()
  const checker = setup.makeClient()
  for (let iteration = 0; iteration < 3; iteration++) {
    let done = false
    const runs = Array.from({ length: clients }, async (_, client) => {
      const clerk = setup.makeClient()
      let j = 0
      let last = ''
      if (!randomKeys) await put(world, clerk, String(client), last, history, client)
      while (!done) {
        const key = randomKeys ? String(world.rng.int(clients)) : String(client)
        const value = appendValue(client, j)
        if (world.rng.int(1000) < 500) {
          const old = await append(world, clerk, key, value, history, client, true)
          if (!randomKeys) {
            if (j > 0 && !old.includes(appendValue(client, j - 1))) t.fail(`old value returned by append lacks ${appendValue(client, j - 1)}`)
            if (old.includes(value)) t.fail(`append returned its own new value ${value}`)
            last += value
          }
          j++
        } else if (randomKeys && world.rng.int(1000) < 100) {
          await put(world, clerk, key, value, history, client)
          j++
        } else {
          const seen = await get(world, clerk, key, history, client)
          if (!randomKeys && seen !== last) t.fail(`get(${key}) returned ${JSON.stringify(seen)}, wanted ${JSON.stringify(last)}`)
        }
      }
      return j
    })
    await new Promise<void>((resolve) => world.clock.setTimeout(resolve, 1000))
    done = true
    const counts = await Promise.all(runs)
    for (let client = 0; client < clients; client++) {
      const value = await get(world, checker, String(client), history, 0)
      if (!randomKeys) checkClientAppends(t, client, value, counts[client] as number)
    }
  }
  checkLinearizable(t, history, true, 'kvsrv')
}

simTest(t, 'Basic (one client)', (world, t) => genericTest(world, t, 1, false, false), limits)
simTest(t, 'Concurrent (many clients)', (world, t) => genericTest(world, t, 5, false, false), limits)
simTest(t, 'Unreliable (many clients, dropped requests and replies)', (world, t) => genericTest(world, t, 5, true, false), limits)

simTest(
  t,
  'UnreliableOneKey (concurrent appends to one key)',
  async (world, t) => {
    const setup = new KvServerSetup(world, true)
    const history = newHistory()
    const clerk = setup.makeClient()
    await put(world, clerk, 'k', '', history, 0)
    const clients = 5
    const upto = 10
    await Promise.all(
      Array.from({ length: clients }, async (_, me) => {
        const mine = setup.makeClient()
        for (let n = 0; n < upto; n++) await append(world, mine, 'k', appendValue(me, n), history, me + 1, true)
      }),
    )
    const value = await get(world, clerk, 'k', history, 0)
    checkConcurrentAppends(
      t,
      value,
      Array.from({ length: clients }, () => upto),
    )
    checkLinearizable(t, history, true, 'kvsrv-one-key')
  },
  limits,
)
