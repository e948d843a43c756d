// A local KV cluster of `lograft node` processes (LocalCluster), on the process supervisor of
// lograft/testing: what `lograft cluster`, the demos and the process tests run.

import { join } from 'node:path'
import { newClusterId } from '../log/log-store.js'
import { formatPeers } from '../node/peers.js'
import { type ExitListener, ProcessSupervisor } from '../testing/process-supervisor.js'

export { type ExitListener, NodeStartError, type ProcessSpec, ProcessSupervisor } from '../testing/process-supervisor.js'

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
        'node',
        '--id',
        node.id,
        '--peers',
        this.layout.peers,
        '--cluster-id',
        this.layout.clusterId,
        '--data',
        node.dataDirectory,
        '--resp',
        node.respAddress,
        ...this.extraArgs,
        ...this.nodeArgs(id),
      ],
      readyText: `lograft node ${id} ready`,
      dataDirectory: node.dataDirectory,
    })
  }

  /** SIGKILL: the node gets no chance to clean up. */
  kill(id: string): Promise<void> {
    return this.supervisor.kill(id)
  }

  /** SIGSTOP: node `id` freezes until resume(id). */
  suspend(id: string): void {
    this.supervisor.suspend(id)
  }

  /** SIGCONT: a suspended node runs on. */
  resume(id: string): void {
    this.supervisor.resume(id)
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
