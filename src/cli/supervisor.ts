// Runs a local cluster of `lograft node` processes: starts them, waits until each is ready, kills
// and restarts them (the demo and the crash tests do), and stops them all cleanly.

import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatPeers } from '../node/peers.js'

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))

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
}

/** Node i (1-based) raft on basePort+i, RESP on respBasePort+i, data in DIR/node-i. */
export function localLayout(count: number, dataDirectory: string, host: string, basePort: number, respBasePort: number): LocalClusterLayout {
  const nodes = Array.from({ length: count }, (_, i) => ({
    id: String(i + 1),
    raftAddress: `${host}:${basePort + i + 1}`,
    respAddress: `${host}:${respBasePort + i + 1}`,
    dataDirectory: join(dataDirectory, `node-${i + 1}`),
  }))
  return { nodes, peers: formatPeers(nodes.map((node) => ({ id: node.id, address: node.raftAddress }))) }
}

export class NodeStartError extends Error {
  readonly code = 'ERR_NODE_START'
}

export class LocalCluster {
  private readonly processes = new Map<string, ChildProcess>()

  constructor(
    readonly layout: LocalClusterLayout,
    private readonly extraArgs: readonly string[] = [],
    private readonly onExit: (id: string, code: number | null, signal: NodeJS.Signals | null) => void = () => {},
  ) {}

  async startAll(): Promise<void> {
    await Promise.all(this.layout.nodes.map((node) => this.start(node.id)))
  }

  /** Starts node `id` and resolves once it reports ready; rejects with its error output if it exits. */
  start(id: string): Promise<void> {
    const node = this.node(id)
    mkdirSync(node.dataDirectory, { recursive: true })
    const child = spawn(
      process.execPath,
      [
        '--enable-source-maps',
        MAIN,
        'node',
        '--id',
        node.id,
        '--peers',
        this.layout.peers,
        '--data',
        node.dataDirectory,
        '--resp',
        node.respAddress,
        '--supervised',
        ...this.extraArgs,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    )
    this.processes.set(id, child)
    return new Promise((resolve, reject) => {
      let errors = ''
      let ready = false
      child.stderr.on('data', (chunk: Buffer) => {
        errors += chunk.toString()
        if (errors.length > 20_000) errors = errors.slice(-10_000)
      })
      child.stdout.on('data', (chunk: Buffer) => {
        if (!ready && chunk.toString().includes(`lograft node ${id} ready`)) {
          ready = true
          resolve()
        }
      })
      child.on('exit', (code, signal) => {
        if (this.processes.get(id) === child) this.processes.delete(id)
        if (!ready) reject(new NodeStartError(`node ${id} exited before it was ready (${signal ?? `code ${code}`}): ${errors.trim()}`))
        else this.onExit(id, code, signal)
      })
    })
  }

  /** SIGKILL: the node gets no chance to clean up. */
  kill(id: string): Promise<void> {
    return this.signal(id, 'SIGKILL')
  }

  /** Stops every node with SIGTERM and waits for them to exit. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.signal(id, 'SIGTERM')))
  }

  isRunning(id: string): boolean {
    return this.processes.has(id)
  }

  node(id: string): LocalNode {
    const node = this.layout.nodes.find((candidate) => candidate.id === id)
    if (!node) throw new Error(`no node ${id} in this cluster`)
    return node
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
