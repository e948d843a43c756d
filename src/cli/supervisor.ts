// Runs local lograft processes: starts each with its arguments, waits until it reports ready, kills
// and restarts it (the demos and the crash tests do), and stops them all cleanly. `LocalCluster` is
// a KV cluster of `lograft node` processes on top of it; `lograft shard demo` supervises a
// controller group and replica groups the same way.

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newClusterId } from '../log/log-store.js'
import { formatPeers } from '../node/peers.js'

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))
/** Error output kept of a process that is starting, for the error that says why it did not. */
const MAX_KEPT_ERROR_CHARS = 20_000

export interface ProcessSpec {
  /** Unique among the supervisor's processes. */
  readonly id: string
  /** The arguments after `lograft` (without --supervised, which the supervisor adds). */
  readonly args: readonly string[]
  /** A line of standard output that contains this says the process is ready. */
  readonly readyText: string
  /** Created before the process starts. */
  readonly dataDirectory: string
}

export class NodeStartError extends Error {
  readonly code = 'ERR_NODE_START'
}

/** `lastError` is the last line the process wrote to stderr (a failed node says why there), if any. */
export type ExitListener = (id: string, code: number | null, signal: NodeJS.Signals | null, lastError: string | null) => void

export class ProcessSupervisor {
  private readonly processes = new Map<string, ChildProcess>()
  /** The recent error output of each process started, kept after it exits. */
  private readonly errorOutput = new Map<string, string>()

  constructor(private readonly onExit: ExitListener = () => {}) {}

  /** Starts a process and resolves once it reports ready; rejects with its error output if it exits first. */
  start(spec: ProcessSpec): Promise<void> {
    mkdirSync(spec.dataDirectory, { recursive: true })
    const child = spawn(process.execPath, ['--enable-source-maps', MAIN, ...spec.args, '--supervised'], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.processes.set(spec.id, child)
    return new Promise((resolve, reject) => {
      let errors = ''
      let ready = false
      child.stderr.on('data', (chunk: Buffer) => {
        errors += chunk.toString()
        if (errors.length > MAX_KEPT_ERROR_CHARS) errors = errors.slice(-MAX_KEPT_ERROR_CHARS / 2)
        this.errorOutput.set(spec.id, errors)
      })
      child.stdout.on('data', (chunk: Buffer) => {
        if (!ready && chunk.toString().includes(spec.readyText)) {
          ready = true
          resolve()
        }
      })
      child.on('exit', (code, signal) => {
        if (this.processes.get(spec.id) === child) this.processes.delete(spec.id)
        if (!ready) reject(new NodeStartError(`${spec.id} exited before it was ready (${signal ?? `code ${code}`}): ${errors.trim()}`))
        else this.onExit(spec.id, code, signal, errors.trim().split('\n').pop() || null)
      })
    })
  }

  /** SIGKILL: the process gets no chance to clean up. */
  kill(id: string): Promise<void> {
    return this.signal(id, 'SIGKILL')
  }

  /** Stops every process with SIGTERM and waits for them to exit. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.signal(id, 'SIGTERM')))
  }

  isRunning(id: string): boolean {
    return this.processes.has(id)
  }

  /** The last few KiB a process (its latest run) wrote to stderr: its log. */
  recentErrorOutput(id: string): string {
    return this.errorOutput.get(id) ?? ''
  }

  private signal(id: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.processes.get(id)
    if (!child) return Promise.resolve()
    return new Promise((resolve) => {
      child.once('exit', () => resolve())
      child.kill(signal)
    })
  }
}

export interface LocalNode {
  readonly id: string
  readonly raftAddress: string
  readonly respAddress: string
  readonly dataDirectory: string
}

export interface LocalClusterLayout {
  nodes: LocalNode[]
  /** The --peers value every node gets. */
  peers: string
  /** The --cluster-id every node gets (random for a new cluster). */
  clusterId: string
}

/** Node i (1-based) raft on basePort+i, RESP on respBasePort+i, data in DIR/node-i. */
export function localLayout(
  count: number,
  dataDirectory: string,
  host: string,
  basePort: number,
  respBasePort: number,
  clusterId: string = newClusterId(),
): LocalClusterLayout {
  const nodes = Array.from({ length: count }, (_, i) => ({
    id: String(i + 1),
    raftAddress: `${host}:${basePort + i + 1}`,
    respAddress: `${host}:${respBasePort + i + 1}`,
    dataDirectory: join(dataDirectory, `node-${i + 1}`),
  }))
  return { nodes, peers: formatPeers(nodes.map((node) => ({ id: node.id, address: node.raftAddress }))), clusterId }
}

/** A KV cluster of `lograft node` processes. */
export class LocalCluster {
  private readonly supervisor: ProcessSupervisor

  constructor(
    readonly layout: LocalClusterLayout,
    private readonly extraArgs: readonly string[] = [],
    onExit?: ExitListener,
    /** Arguments for one node only (e.g. its own TLS certificate). */
    private readonly nodeArgs: (id: string) => readonly string[] = () => [],
  ) {
    this.supervisor = new ProcessSupervisor(onExit)
  }

  async startAll(): Promise<void> {
    await Promise.all(this.layout.nodes.map((node) => this.start(node.id)))
  }

  /** Starts node `id` and resolves once it reports ready; rejects with its error output if it exits. */
  start(id: string): Promise<void> {
    const node = this.node(id)
    return this.supervisor.start({
      id,
      args: [
        'node', '--id', node.id, '--peers', this.layout.peers, '--cluster-id', this.layout.clusterId,
        '--data', node.dataDirectory, '--resp', node.respAddress, ...this.extraArgs, ...this.nodeArgs(id),
      ],
      readyText: `lograft node ${id} ready`,
      dataDirectory: node.dataDirectory,
    })
  }

  /** SIGKILL: the node gets no chance to clean up. */
  kill(id: string): Promise<void> {
    return this.supervisor.kill(id)
  }

  /** Stops every node with SIGTERM and waits for them to exit. */
  stopAll(): Promise<void> {
    return this.supervisor.stopAll()
  }

  isRunning(id: string): boolean {
    return this.supervisor.isRunning(id)
  }

  /** What node `id` logged lately (its stderr). */
  recentLog(id: string): string {
    return this.supervisor.recentErrorOutput(id)
  }

  node(id: string): LocalNode {
    const node = this.layout.nodes.find((candidate) => candidate.id === id)
    if (!node) throw new Error(`no node ${id} in this cluster`)
    return node
  }
}
