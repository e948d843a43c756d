// A Raft cluster of real OS processes on loopback TCP, each running test/fixtures/raft-node-process
// on its own classic-level data directory: start, SIGKILL and restart nodes, and talk to them
// through their Control service. Shared by the process tests and the benchmark.

import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { TcpTransport } from '../../src/rpc/tcp-transport.js'
import { invoke } from '../../src/rpc/service.js'
import { sleep, systemClock } from '../../src/base/clock.js'
import { silentLogger } from '../../src/base/logger.js'
import { makeTempDir } from './log.js'
import { type AppliedCommand, type AppliedReply, type StatusReply, appliedMethod, proposeMethod, statusMethod } from './raft-control.js'

const NODE_PROGRAM = fileURLToPath(new URL('../fixtures/raft-node-process.js', import.meta.url))
const HOST = '127.0.0.1'
/** A node process that is not serving by then failed to start. */
const START_TIMEOUT_MS = 15_000
/** A node that ignores SIGTERM this long is killed. */
const STOP_TIMEOUT_MS = 5000
const POLL_INTERVAL_MS = 50
/** Per Control call; a dead or busy node must not stall a poll loop. */
const CONTROL_CALL_TIMEOUT_MS = 2000
/** Keep only the end of a node's stderr, for failure messages. */
const MAX_STDERR_CHARS = 8000

export interface NodeExit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** `count` distinct ports that were free a moment ago (each bound on port 0, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer()
          server.once('error', reject)
          server.listen(0, HOST, () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

/** One running node program: resolves `ready` when it prints "ready <id>", `exited` when it ends. */
export class NodeProcess {
  readonly ready: Promise<void>
  readonly exited: Promise<NodeExit>
  private stderrText = ''

  private constructor(
    readonly id: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText = (this.stderrText + chunk.toString()).slice(-MAX_STDERR_CHARS)
    })
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
    this.ready = new Promise((resolve, reject) => {
      let stdout = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        if (stdout.split('\n').includes(`ready ${id}`)) resolve()
      })
      child.on('error', reject)
      void this.exited.then((exit) => reject(new Error(`node ${id} exited before it was ready (${describeExit(exit)}): ${this.stderr}`)))
    })
    // A node expected to refuse to start is watched through `exited`, and nobody awaits `ready`:
    // its rejection must not count as unhandled. Callers that await `ready` still see it.
    this.ready.catch(() => {})
  }

  /** Runs the node program with these command-line arguments. */
  static spawn(id: string, args: readonly string[]): NodeProcess {
    // stdin stays open while this process lives: the node stops when it closes, so it never outlives its parent.
    const child = spawn(process.execPath, ['--enable-source-maps', NODE_PROGRAM, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    return new NodeProcess(id, child)
  }

  /** What the node wrote to stderr (the last few thousand characters). */
  get stderr(): string {
    return this.stderrText
  }

  /** How the process ended, or null if it is still running after `timeoutMs`. */
  exitedWithin(timeoutMs: number): Promise<NodeExit | null> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)))
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer))
  }

  signal(signal: NodeJS.Signals): Promise<NodeExit> {
    this.child.kill(signal)
    return this.exited
  }
}

export function describeExit(exit: NodeExit | null): string {
  if (!exit) return 'still running'
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`
}

export interface ProcessClusterOptions {
  /** Node ids; default n1, n2, n3. */
  ids?: readonly string[]
  clusterId?: string
}

export type CommitOutcome =
  | { kind: 'committed'; command: AppliedCommand }
  | { kind: 'not-leader' }
  /** Proposed, but another entry ended up at its index, or it was not applied in time. */
  | { kind: 'lost' }

export class ProcessCluster {
  readonly ids: readonly string[]
  private readonly clusterId: string
  private readonly addresses: Readonly<Record<string, string>>
  private readonly dataDirectories: Map<string, { path: string; remove: () => void }>
  /** The cluster's node processes by id, while they run. */
  private readonly processes = new Map<string, NodeProcess>()
  /** Every process started through this cluster, stopped by stop() if still running. */
  private readonly spawned = new Set<NodeProcess>()
  private readonly control: TcpTransport

  private constructor(ids: readonly string[], clusterId: string, addresses: Record<string, string>, control: TcpTransport) {
    this.ids = ids
    this.clusterId = clusterId
    this.addresses = addresses
    this.control = control
    this.dataDirectories = new Map(ids.map((id) => [id, makeTempDir(`raft-${id}`)]))
  }

  /** Starts every node on a free loopback port and a fresh data directory; resolves when all serve. */
  static async start(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const ids = options.ids ?? ['n1', 'n2', 'n3']
    const ports = await freePorts(ids.length)
    const addresses = Object.fromEntries(ids.map((id, i) => [id, `${HOST}:${ports[i]}`]))
    const control = await TcpTransport.start({ self: 'control', peers: addresses, logger: silentLogger, callTimeoutMs: CONTROL_CALL_TIMEOUT_MS })
    const cluster = new ProcessCluster(ids, options.clusterId ?? 'lograft-test', addresses, control)
    try {
      await Promise.all(ids.map((id) => cluster.startNode(id)))
    } catch (error) {
      await cluster.stop()
      throw error
    }
    return cluster
  }

  /** The program's arguments for node `id` on its own data directory. */
  argsFor(id: string, dataDirectory = this.dataDirectory(id)): string[] {
    const peers = Object.entries(this.addresses)
      .map(([peer, address]) => `${peer}=${address}`)
      .join(',')
    return ['--id', id, '--peers', peers, '--data', dataDirectory, '--cluster', this.clusterId]
  }

  dataDirectory(id: string): string {
    const directory = this.dataDirectories.get(id)
    if (!directory) throw new Error(`no node ${id} in this cluster`)
    return directory.path
  }

  /** Runs the node program with `args` (e.g. on another node's data), stopped with the cluster. */
  spawn(id: string, args: readonly string[]): NodeProcess {
    const node = NodeProcess.spawn(id, args)
    this.spawned.add(node)
    void node.exited.then(() => this.spawned.delete(node))
    return node
  }

  /** (Re)starts node `id` on its address and data directory; resolves when it serves. */
  async startNode(id: string): Promise<void> {
    if (this.processes.has(id)) throw new Error(`node ${id} is already running`)
    const node = this.spawn(id, this.argsFor(id))
    this.processes.set(id, node)
    void node.exited.then(() => {
      if (this.processes.get(id) === node) this.processes.delete(id)
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${id} not ready after ${START_TIMEOUT_MS} ms: ${node.stderr}`)), START_TIMEOUT_MS)
    })
    try {
      await Promise.race([node.ready, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** SIGKILLs node `id` and waits until it is gone. */
  async kill(id: string): Promise<NodeExit> {
    const node = this.processes.get(id)
    if (!node) throw new Error(`node ${id} is not running`)
    return node.signal('SIGKILL')
  }

  /** The stderr of every running node, for failure messages. */
  stderrs(): string {
    return [...this.processes.values()].map((node) => `--- ${node.id} stderr ---\n${node.stderr}`).join('\n')
  }

  /** Stops every process (SIGTERM, then SIGKILL if it lingers) and deletes the data directories. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.spawned].map(async (node) => {
        const timer = setTimeout(() => void node.signal('SIGKILL'), STOP_TIMEOUT_MS)
        await node.signal('SIGTERM')
        clearTimeout(timer)
      }),
    )
    await this.control.close()
    for (const directory of this.dataDirectories.values()) directory.remove()
  }

  // ---------------------------------------------------------------- Control calls

  /** Node `id`'s status, or null if it does not answer. */
  status(id: string): Promise<StatusReply | null> {
    return invoke(this.control, id, statusMethod, {}).catch(() => null)
  }

  /** Commands node `id` applied from `fromIndex`, waiting up to `waitMs` for that index to be applied. */
  applied(id: string, fromIndex: number, maxEntries: number, waitMs = 0): Promise<AppliedReply> {
    return invoke(this.control, id, appliedMethod, { fromIndex, maxEntries, waitMs }, { timeoutMs: waitMs + CONTROL_CALL_TIMEOUT_MS })
  }

  /** Every command node `id` has applied, read in pages. */
  async allApplied(id: string): Promise<AppliedCommand[]> {
    const commands: AppliedCommand[] = []
    for (;;) {
      const page = await this.applied(id, (commands.at(-1)?.index ?? 0) + 1, 0)
      if (page.commands.length === 0) return commands
      commands.push(...page.commands)
    }
  }

  /**
   * Proposes `command` on node `id` and waits up to `waitMs` for that node to apply its index; the
   * command is committed if the entry applied there is the one proposed (same term and bytes).
   */
  async commit(id: string, command: Uint8Array, waitMs: number): Promise<CommitOutcome> {
    // One call, as a client of a replicated service makes: the node answers once it has applied the index.
    const proposed = await invoke(this.control, id, proposeMethod, { command, waitMs }, { timeoutMs: waitMs + CONTROL_CALL_TIMEOUT_MS })
    if (!proposed.isLeader) return { kind: 'not-leader' }
    const applied = proposed.applied[0]
    if (!applied || applied.index !== proposed.index || applied.term !== proposed.term) return { kind: 'lost' }
    if (Buffer.compare(applied.data, command) !== 0) return { kind: 'lost' }
    return { kind: 'committed', command: applied }
  }

  /**
   * Polls the nodes in `among` until one reports itself leader in a term above `aboveTerm`, and
   * resolves with its id and term; null if none does within `timeoutMs`.
   */
  async waitForLeader(among: readonly string[], timeoutMs: number, aboveTerm = 0): Promise<{ id: string; term: number } | null> {
    const deadline = systemClock.now() + timeoutMs
    while (systemClock.now() < deadline) {
      const statuses = await Promise.all(among.map((id) => this.status(id)))
      const leaders = statuses.filter((status): status is StatusReply => status?.role === 'leader' && status.term > aboveTerm)
      const newest = leaders.sort((a, b) => b.term - a.term)[0]
      if (newest) return { id: newest.id, term: newest.term }
      await sleep(systemClock, POLL_INTERVAL_MS)
    }
    return null
  }

  /** Polls until every node in `among` has applied `index`; false if that takes over `timeoutMs`. */
  async waitForApplied(among: readonly string[], index: number, timeoutMs: number): Promise<boolean> {
    const deadline = systemClock.now() + timeoutMs
    while (systemClock.now() < deadline) {
      const statuses = await Promise.all(among.map((id) => this.status(id)))
      if (statuses.every((status) => status !== null && status.appliedIndex >= index)) return true
      await sleep(systemClock, POLL_INTERVAL_MS)
    }
    return false
  }
}
