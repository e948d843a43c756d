// lograft/testing's Transport conformance suite against every Transport lograft ships: the
// simulated network on virtual time, and TcpTransport on 127.0.0.1 over plain TCP and mutual TLS.

import t from 'tap'
import { systemClock } from '../src/base/clock.js'
import { MemoryLogger } from '../src/base/logger.js'
import { SimServer, type SimClientEnd } from '../src/rpc/sim-network.js'
import { SimTransport } from '../src/rpc/sim-transport.js'
import { TcpTransport } from '../src/rpc/tcp-transport.js'
import { type TlsConfig, loadTlsFiles } from '../src/rpc/tls.js'
import type { Transport } from '../src/rpc/transport.js'
import { stableSeed } from '../src/sim/seeds.js'
import { SimWorld } from '../src/sim/world.js'
import { type ConformanceNetwork, createTestPki, issueCertificate, transportConformance } from '../src/testing/index.js'
import { makeTempDir } from './helpers/log.js'

const HOST = '127.0.0.1'

/** A SimWorld's network: members attached as its nodes, clients with an end to each member. */
function simNetwork(): ConformanceNetwork {
  const world = new SimWorld({ seed: stableSeed('transport conformance') })
  const transports: Transport[] = []
  let memberIds: readonly string[] = []
  const keep = <T extends Transport>(transport: T): T => {
    transports.push(transport)
    return transport
  }
  return {
    clock: world.clock,
    run: (body) => world.run(body),
    async startMembers(ids) {
      memberIds = ids
      return ids.map((id) =>
        keep(
          world.attachNode(
            id,
            ids.filter((peer) => peer !== id),
          ).transport,
        ),
      )
    },
    async startClient(id) {
      const ends = new Map<string, SimClientEnd>()
      for (const member of memberIds) {
        const end = world.network.makeEnd(`${id}->${member}`, id)
        world.network.connect(end.name, member)
        world.network.enable(end.name, true)
        ends.set(member, end)
      }
      return keep(new SimTransport({ self: id, server: new SimServer(), ends, clock: world.clock }))
    },
    async close() {
      for (const transport of transports) await transport.close()
    },
  }
}

/** TcpTransports on 127.0.0.1, members of one cluster, under mutual TLS if `tlsFor` gives each its certificate. */
function tcpNetwork(tlsFor?: (id: string) => Promise<TlsConfig>): ConformanceNetwork {
  const transports: TcpTransport[] = []
  const addresses: Record<string, string> = {}
  const common = async (id: string) => ({ self: id, logger: new MemoryLogger(), ...(tlsFor ? { tls: await tlsFor(id) } : {}) })
  return {
    clock: systemClock,
    run: (body) => body(),
    async startMembers(ids) {
      const members: TcpTransport[] = []
      for (const id of ids) {
        const cluster = { clusterId: 'conformance', incarnation: `${id}-incarnation`, membersDigest: '' }
        const member = await TcpTransport.start({ ...(await common(id)), listen: { host: HOST, port: 0 }, cluster })
        transports.push(member)
        members.push(member)
        addresses[id] = `${HOST}:${member.address?.port ?? 0}`
      }
      for (const member of members) member.syncPeers(Object.fromEntries(Object.entries(addresses).filter(([id]) => id !== member.self)))
      return members
    },
    async startClient(id) {
      const client = await TcpTransport.start({ ...(await common(id)), peers: { ...addresses } })
      transports.push(client)
      return client
    },
    async close() {
      await Promise.all(transports.map((transport) => transport.close()))
    },
  }
}

/** One throwaway CA for the whole file; a certificate (CN = id) is issued the first time an id needs one. */
function testCertificates(): (id: string) => Promise<TlsConfig> {
  const directory = makeTempDir('conformance-pki')
  t.teardown(directory.remove)
  const pki = createTestPki(directory.path, [])
  const issued = new Map<string, Promise<TlsConfig>>()
  return (id) => {
    let config = issued.get(id)
    if (!config) {
      config = pki.then(async (ca) => {
        const certificate = await issueCertificate(directory.path, ca, id)
        return loadTlsFiles({ ...certificate, caFile: ca.caFile })
      })
      issued.set(id, config)
    }
    return config
  }
}

transportConformance(t, { name: 'SimNetwork', createNetwork: simNetwork })
transportConformance(t, { name: 'TcpTransport (plain TCP)', createNetwork: () => tcpNetwork() })
const certificates = testCertificates()
transportConformance(t, { name: 'TcpTransport (mutual TLS)', createNetwork: () => tcpNetwork(certificates) })
