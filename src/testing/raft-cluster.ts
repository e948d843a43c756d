// A simulated Raft cluster for tests, equivalent to the MIT 6.5840 Raft lab's config.go: it
// connects, disconnects, crashes and restarts peers on the simulated network (a restart keeps only
// what reached the node's LogStore), and checks every applied message: no two peers apply
// different commands at one index, and each peer applies in order. Commands are numbers or
// strings, as in the lab.

import { MemoryLevel } from 'memory-level'
import type { Subscription } from 'rxjs'
import type { LevelDatabase } from '../log/log-store.js'
import { LogStore } from '../log/log-store.js'
import type { SimClientEnd } from '../rpc/sim-network.js'
import { SimServer } from '../rpc/sim-network.js'
import { SimTransport } from '../rpc/sim-transport.js'
import type { Configuration, MembershipChange } from '../raft/membership.js'
import { type AppliedMessage, type MembershipState, RaftNode, type RaftNodeOptions } from '../raft/node.js'
import { sleep } from '../base/clock.js'
import type { SimWorld } from '../sim/world.js'
import { silentLogger } from '../base/logger.js'
import { changeMembershipThroughLeader } from './membership-driver.js'
import { slowWrites } from './slow-disk.js'

/** A command in the Raft lab's tests: a number or a string, compared with ===. */
export type LabCommand = number | string

/** How to build a RaftCluster: how its appliers treat committed messages (the lab's applier and applierSnap), the network, the peers. */
export interface RaftClusterOptions {
  /** Snapshot every `snapshotInterval` applied commands, as the lab's applierSnap does. */
  snapshots?: boolean
  /** Default 10. */
  snapshotInterval?: number
  /** Drop and delay messages as labrpc's unreliable network does (set on the world's whole network). */
  unreliable?: boolean
  /** Extra node options (timing etc.) for every peer. */
  node?: Partial<RaftNodeOptions>
  /**
   * How many of the peers found the cluster (0 .. founders-1, the voters of its first
   * configuration). The others start as servers that know no configuration, waiting to be added.
   * Default: all of them.
   */
  founders?: number
  /** Every batch a peer writes to its log (entries, hard state) takes this long in virtual time: a slow disk. */
  diskWriteMs?: number
}

/** A check the cluster found broken: the equivalent of the lab's t.Fatalf. */
export class ClusterCheckError extends Error {
  readonly code = 'ERR_CLUSTER_CHECK'
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A lab command as the entry data RaftCluster proposes (JSON), for tests that propose on a node directly. */
export function encodeCommand(command: LabCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command))
}

/** The command in an entry's data, as encodeCommand wrote it. */
export function decodeCommand(data: Uint8Array): LabCommand {
  return JSON.parse(decoder.decode(data)) as LabCommand
}

/** The applier's snapshot: the last included index and every command through it (as the lab's). */
function encodeSnapshot(lastIncludedIndex: number, log: ReadonlyMap<number, LabCommand | null>): Uint8Array {
  const commands: Array<LabCommand | null> = []
  for (let index = 0; index <= lastIncludedIndex; index++) commands.push(log.get(index) ?? null)
  return encoder.encode(JSON.stringify({ lastIncludedIndex, commands }))
}

function decodeSnapshot(data: Uint8Array): { lastIncludedIndex: number; commands: Array<LabCommand | null> } {
  return JSON.parse(decoder.decode(data)) as { lastIncludedIndex: number; commands: Array<LabCommand | null> }
}

/** The lab's "nil" for a no-op entry: never equal to a real command. */
const NOOP = null

/**
 * The MIT 6.5840 Raft lab's config.go on a SimWorld: peers "0" .. "size-1" that a test connects,
 * disconnects, crashes and restarts, each with the lab's checking applier. What an applier finds
 * wrong (two peers applying different commands at one index, an apply out of order) is recorded and
 * thrown as ClusterCheckError by checkApplyErrors, which nCommitted, one, wait and cleanup call.
 * Create one with RaftCluster.create.
 */
export class RaftCluster {
  readonly size: number
  /** Each peer's node; null while it is crashed. */
  readonly nodes: Array<RaftNode | null>
  /** Whether each peer is connected (the lab's `connected`). */
  readonly connected: boolean[]
  /** Per peer: what it applied at each index. */
  readonly logs: Array<Map<number, LabCommand | null>>
  /** Per peer: the last index it applied. */
  readonly lastApplied: number[]
  /** The highest index any peer has applied. */
  maxIndex = 0
  private readonly world: SimWorld
  private readonly options: RaftClusterOptions
  private readonly databases: LevelDatabase[]
  private readonly stores: Array<LogStore | null>
  private readonly ends: Array<Map<number, SimClientEnd>>
  private readonly subscriptions: Array<Subscription | null>
  private readonly failures: string[] = []
  private generation = 0

  private constructor(world: SimWorld, size: number, options: RaftClusterOptions) {
    this.world = world
    this.size = size
    this.options = options
    this.nodes = Array.from({ length: size }, () => null)
    this.connected = Array.from({ length: size }, () => false)
    this.logs = Array.from({ length: size }, () => new Map())
    this.lastApplied = Array.from({ length: size }, () => 0)
    this.databases = Array.from({ length: size }, () => {
      const database = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' })
      return options.diskWriteMs === undefined ? database : slowWrites(database, world.clock, options.diskWriteMs)
    })
    this.stores = Array.from({ length: size }, () => null)
    this.ends = Array.from({ length: size }, () => new Map())
    this.subscriptions = Array.from({ length: size }, () => null)
    world.network.setReliable(!options.unreliable)
  }

  /** The lab's make_config: `size` peers, all started and connected. */
  static async create(world: SimWorld, size: number, options: RaftClusterOptions = {}): Promise<RaftCluster> {
    const cluster = new RaftCluster(world, size, options)
    for (let i = 0; i < size; i++) await cluster.start1(i)
    for (let i = 0; i < size; i++) cluster.connect(i)
    return cluster
  }

  /** Peer i's name on the network and Raft id: `String(i)`. */
  static peerName(i: number): string {
    return String(i)
  }

  // ---------------------------------------------------------------- faults

  /** Crashes peer i: it stops at once and keeps only what reached its store. */
  crash1(i: number): void {
    this.disconnect(i)
    this.world.network.deleteServer(RaftCluster.peerName(i))
    this.subscriptions[i]?.unsubscribe()
    this.subscriptions[i] = null
    this.nodes[i]?.kill()
    this.nodes[i] = null
    this.stores[i] = null
  }

  /** (Re)starts peer i from its store, with fresh ends and a fresh server. Does not connect it. */
  async start1(i: number): Promise<void> {
    this.crash1(i)
    const self = RaftCluster.peerName(i)
    const generation = this.generation++
    const ends = new Map<number, SimClientEnd>()
    const endsByPeer = new Map<string, SimClientEnd>()
    for (let j = 0; j < this.size; j++) {
      const end = this.world.network.makeEnd(`${self}->${j}#${generation}`, self, { asPeer: true })
      this.world.network.connect(end.name, RaftCluster.peerName(j))
      ends.set(j, end)
      endsByPeer.set(RaftCluster.peerName(j), end)
    }
    this.ends[i] = ends
    // The applier restarts from the snapshot (if any), which the node re-emits first.
    this.logs[i] = new Map()
    this.lastApplied[i] = 0
    const store = await LogStore.open(this.databases[i] as LevelDatabase, { name: `peer ${self}` })
    const server = new SimServer()
    const transport = new SimTransport({ self, server, ends: endsByPeer, clock: this.world.clock })
    const rng = this.world.rng.fork()
    const founders = this.options.founders ?? this.size
    const node = await RaftNode.create({
      id: self,
      members: i < founders ? Array.from({ length: founders }, (_, j) => RaftCluster.peerName(j)) : [],
      transport,
      store,
      clock: this.world.clock,
      random: () => rng.float(),
      logger: silentLogger,
      ...this.options.node,
    })
    this.subscriptions[i] = node.committed$.subscribe({
      next: (message) => this.apply(i, node, message),
      error: (error: unknown) => this.failures.push(`peer ${i} failed: ${String(error)}`),
    })
    node.start()
    this.stores[i] = store
    this.nodes[i] = node
    this.world.network.addServer(self, server)
  }

  /** Links peer i with every connected peer, both ways (the lab's connect). */
  connect(i: number): void {
    this.connected[i] = true
    for (let j = 0; j < this.size; j++) {
      if (!this.connected[j]) continue
      this.setLink(i, j, true)
      this.setLink(j, i, true)
    }
  }

  /** Cuts peer i off from every other peer, both ways (the lab's disconnect). */
  disconnect(i: number): void {
    this.connected[i] = false
    for (let j = 0; j < this.size; j++) {
      this.setLink(i, j, false)
      this.setLink(j, i, false)
    }
  }

  /** Enables or cuts the calls peer `from` makes to peer `to` (replies to them travel back the same way). */
  setLink(from: number, to: number, enabled: boolean): void {
    const end = this.ends[from]?.get(to)
    if (end) this.world.network.enable(end.name, enabled)
  }

  /** Links peers within each group and cuts every link between groups; connect() each peer to heal. */
  partition(groups: ReadonlyArray<readonly number[]>): void {
    const groupOf = new Map(groups.flatMap((group, g) => group.map((i) => [i, g] as const)))
    for (let i = 0; i < this.size; i++) {
      this.connected[i] = groupOf.has(i)
      for (let j = 0; j < this.size; j++) this.setLink(i, j, groupOf.has(i) && groupOf.get(i) === groupOf.get(j))
    }
  }

  /** Makes the world's network unreliable, or reliable again; see SimNetwork.setReliable. */
  setUnreliable(unreliable: boolean): void {
    this.world.network.setReliable(!unreliable)
  }

  /** See SimNetwork.setLongReordering. */
  setLongReordering(longReordering: boolean): void {
    this.world.network.setLongReordering(longReordering)
  }

  // ---------------------------------------------------------------- observations

  /** RPCs dispatched to peer i since its last start; 0 while it is crashed. */
  rpcCount(i: number): number {
    return this.world.network.serverRpcCount(RaftCluster.peerName(i))
  }

  /** rpcCount summed over every peer. */
  rpcTotal(): number {
    let total = 0
    for (let i = 0; i < this.size; i++) total += this.rpcCount(i)
    return total
  }

  /** Bytes carried by the world's whole network so far: requests submitted plus replies delivered. */
  bytesTotal(): number {
    return this.world.network.totalBytes
  }

  /** The largest raft state (hard state + retained log) of any live peer, in bytes. */
  logSize(): number {
    return Math.max(0, ...this.nodes.map((node) => node?.sizes().raftStateBytes ?? 0))
  }

  /** Peer i's current term, or -1 while it is crashed. */
  term(i: number): number {
    return this.nodes[i]?.status().term ?? -1
  }

  /** Whether peer i believes it leads; false while it is crashed. */
  isLeader(i: number): boolean {
    return this.nodes[i]?.status().role === 'leader'
  }

  /**
   * Makes a membership change through whichever peer leads, retrying (as a client would) across
   * leader changes, lost proposals and a change still in flight, for up to `timeoutMs` of simulated
   * time. Resolves with the configuration once the change has committed; rejects with an error of
   * code ERR_MEMBERSHIP_TIMEOUT when time runs out, or at once with the MembershipChangeError of an
   * invalid change. Only connected peers are asked.
   */
  async changeMembership(change: MembershipChange, timeoutMs = 10_000): Promise<MembershipState> {
    const reachable = (): RaftNode[] => this.nodes.filter((node, i): node is RaftNode => node !== null && (this.connected[i] ?? false))
    return changeMembershipThroughLeader(reachable, this.world.clock, change, timeoutMs)
  }

  /** Has peer i snapshot everything it has applied, now, as its applier would. */
  async snapshotNow(i: number): Promise<number> {
    const node = this.nodes[i]
    if (!node) throw new ClusterCheckError(`peer ${i} is down`)
    const index = this.lastApplied[i] as number
    await node.snapshot(index, encodeSnapshot(index, this.logs[i] as Map<number, LabCommand | null>))
    return index
  }

  /** Peer i's latest configuration, or null when it is down. */
  configuration(i: number): Configuration | null {
    return this.nodes[i]?.members().configuration ?? null
  }

  /** Whether peer i knows its latest configuration to be committed (false when it is down). */
  configurationCommitted(i: number): boolean {
    return this.nodes[i]?.members().committed ?? false
  }

  /** Start(command) on peer i: the lab's rf.Start. */
  start(i: number, command: LabCommand): { index: number; term: number; isLeader: boolean } {
    const node = this.nodes[i]
    if (!node) return { index: -1, term: -1, isLeader: false }
    return node.propose(encodeCommand(command))
  }

  // ---------------------------------------------------------------- checks (the lab's helpers)

  /** Waits `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return sleep(this.world.clock, ms)
  }

  /** Throws the first apply error any peer reported. */
  checkApplyErrors(): void {
    if (this.failures.length > 0) throw new ClusterCheckError(this.failures[0] as string)
  }

  /** Waits until exactly one connected peer leads the newest term; returns it. */
  async checkOneLeader(): Promise<number> {
    for (let iteration = 0; iteration < 10; iteration++) {
      await this.sleep(450 + this.world.rng.int(100))
      const leaders = new Map<number, number[]>()
      for (let i = 0; i < this.size; i++) {
        if (this.connected[i] && this.isLeader(i)) {
          const term = this.term(i)
          leaders.set(term, [...(leaders.get(term) ?? []), i])
        }
      }
      let lastTermWithLeader = -1
      for (const [term, peers] of leaders) {
        if (peers.length > 1) throw new ClusterCheckError(`term ${term} has ${peers.length} (>1) leaders`)
        lastTermWithLeader = Math.max(lastTermWithLeader, term)
      }
      if (leaders.size > 0) return (leaders.get(lastTermWithLeader) as number[])[0] as number
    }
    throw new ClusterCheckError('expected one leader, got none')
  }

  /** Every connected peer agrees on the term; returns it. */
  checkTerms(): number {
    let term = -1
    for (let i = 0; i < this.size; i++) {
      if (!this.connected[i]) continue
      const peerTerm = this.term(i)
      if (term === -1) term = peerTerm
      else if (term !== peerTerm) throw new ClusterCheckError('servers disagree on term')
    }
    return term
  }

  /** Throws ClusterCheckError if any connected peer believes it leads. */
  checkNoLeader(): void {
    for (let i = 0; i < this.size; i++) {
      if (this.connected[i] && this.isLeader(i)) throw new ClusterCheckError(`expected no leader among connected servers, but ${i} claims to be leader`)
    }
  }

  /** How many peers applied `index`, and what (they must all agree). */
  nCommitted(index: number): { count: number; command: LabCommand | null | undefined } {
    this.checkApplyErrors()
    let count = 0
    let command: LabCommand | null | undefined
    for (let i = 0; i < this.size; i++) {
      if (!this.logs[i]?.has(index)) continue
      const applied = this.logs[i]?.get(index)
      if (count > 0 && applied !== command) {
        throw new ClusterCheckError(`committed values do not match: index ${index}, ${String(command)}, ${String(applied)}`)
      }
      count++
      command = applied
    }
    return { count, command }
  }

  /**
   * The lab's one(): submits `command` to whichever peer is leader and waits until `expected`
   * peers applied it at the same index; retries for up to 10 s. Returns the index.
   */
  async one(command: LabCommand, expected: number, retry: boolean): Promise<number> {
    const started = this.world.clock.now()
    let next = 0
    while (this.world.clock.now() - started < 10_000) {
      let index = -1
      for (let attempt = 0; attempt < this.size; attempt++) {
        next = (next + 1) % this.size
        if (!this.connected[next]) continue
        const result = this.start(next, command)
        if (result.isLeader) {
          index = result.index
          break
        }
      }
      if (index !== -1) {
        const submitted = this.world.clock.now()
        while (this.world.clock.now() - submitted < 2_000) {
          const { count, command: applied } = this.nCommitted(index)
          if (count > 0 && count >= expected && applied === command) return index
          await this.sleep(20)
        }
        if (!retry) throw new ClusterCheckError(`one(${String(command)}) failed to reach agreement`)
      } else {
        await this.sleep(50)
      }
    }
    throw new ClusterCheckError(`one(${String(command)}) failed to reach agreement`)
  }

  /**
   * The lab's wait(): waits (with backoff) for at least `count` peers to apply `index`; returns
   * what they applied, or -1 if a peer moved past `startTerm` (pass -1 to not check terms).
   */
  async wait(index: number, count: number, startTerm: number): Promise<LabCommand | null | -1> {
    let backoffMs = 10
    for (let iteration = 0; iteration < 30; iteration++) {
      if (this.nCommitted(index).count >= count) break
      await this.sleep(backoffMs)
      if (backoffMs < 1000) backoffMs *= 2
      if (startTerm > -1 && this.nodes.some((node) => node !== null && node.status().term > startTerm)) return -1
    }
    const { count: applied, command } = this.nCommitted(index)
    if (applied < count) throw new ClusterCheckError(`only ${applied} decided for index ${index}; wanted ${count}`)
    return command ?? null
  }

  /** Stops every peer; throws if any apply check failed during the run. */
  cleanup(): void {
    for (let i = 0; i < this.size; i++) this.crash1(i)
    this.checkApplyErrors()
  }

  // ---------------------------------------------------------------- the applier

  private apply(i: number, node: RaftNode, message: AppliedMessage): void {
    if (message.kind === 'snapshot') {
      const snapshot = decodeSnapshot(message.data)
      if (snapshot.lastIncludedIndex !== message.index) {
        this.failures.push(`server ${i} snapshot doesn't match m.SnapshotIndex`)
        return
      }
      const log = new Map<number, LabCommand | null>()
      snapshot.commands.forEach((command, index) => {
        if (index > 0) log.set(index, command)
      })
      this.logs[i] = log
      this.lastApplied[i] = snapshot.lastIncludedIndex
      return
    }
    const index = message.index
    if (index !== (this.lastApplied[i] as number) + 1) {
      this.failures.push(`server ${i} apply out of order, expected index ${(this.lastApplied[i] as number) + 1}, got ${index}`)
      return
    }
    const command = message.kind === 'command' ? decodeCommand(message.data) : NOOP
    for (let j = 0; j < this.size; j++) {
      const log = this.logs[j] as Map<number, LabCommand | null>
      if (log.has(index) && log.get(index) !== command) {
        this.failures.push(`commit index=${index} server=${i} ${String(command)} != server=${j} ${String(log.get(index))}`)
      }
    }
    const log = this.logs[i] as Map<number, LabCommand | null>
    log.set(index, command)
    this.lastApplied[i] = index
    if (index > this.maxIndex) this.maxIndex = index
    const interval = this.options.snapshotInterval ?? 10
    if (this.options.snapshots && (index + 1) % interval === 0) {
      node.snapshot(index, encodeSnapshot(index, log)).catch((error: unknown) => {
        if (!node.isStopped) this.failures.push(`server ${i} snapshot failed: ${String(error)}`)
      })
    }
  }
}
