// A real cluster of your machine for crash tests: `lograft node --machine PATH` processes on free
// loopback ports, each with its LevelDB directory, that a test kills with SIGKILL and restarts as
// it likes. Clients reach it with a MachineClerk over a TcpTransport, by the nodes' addresses.

import { join } from 'node:path'
import { newClusterId } from '../log/log-store.js'
import { formatPeers } from '../node/peers.js'
import { freePortBlock } from './ports.js'
import { type ExitListener, ProcessSupervisor } from './process-supervisor.js'

/** How to start a LocalMachineCluster. */
export interface LocalMachineClusterOptions {
  /** The module exporting the machine (see `lograft node --machine`). */
  machinePath: string
  /** How many nodes. Default 3. */
  nodes?: number
  /** Each node's data goes in DIR/node-ID. */
  dataDirectory: string
  /** Arguments every `lograft node` gets (e.g. TLS flags, --max-raft-state). */
  extraArgs?: readonly string[]
  /** Told whenever a node that was ready exits, by kill() and stopAll() too (a test that stops the cluster on purpose can ignore those). */
  onExit?: ExitListener
}

/** One node of a LocalMachineCluster. */
export interface LocalMachineNode {
  /** Its Raft id: "1" .. "n". */
  readonly id: string
  /** Its "host:port": what clerks call it by. */
  readonly address: string
  /** Its LevelDB directory, kept across kills and restarts. */
  readonly dataDirectory: string
}

/**
 * A real cluster of your machine for crash tests: `lograft node --machine` processes on free
 * loopback ports, each with its own data directory, that a test kills with SIGKILL and restarts as
 * it likes. Clients reach it with a MachineClerk over a TcpTransport, by `addresses`. Call stopAll
 * when done, also when a test fails, or the processes outlive it.
 */
export class LocalMachineCluster {
  private readonly supervisor: ProcessSupervisor

  private constructor(
    readonly nodes: readonly LocalMachineNode[],
    readonly clusterId: string,
    private readonly options: LocalMachineClusterOptions,
  ) {
    this.supervisor = new ProcessSupervisor(options.onExit)
  }

  /** Starts every node and resolves once each reports ready. */
  static async start(options: LocalMachineClusterOptions): Promise<LocalMachineCluster> {
    const count = options.nodes ?? 3
    const base = await freePortBlock(count)
    const nodes = Array.from({ length: count }, (_, i) => ({
      id: String(i + 1),
      address: `127.0.0.1:${base + i + 1}`,
      dataDirectory: join(options.dataDirectory, `node-${i + 1}`),
    }))
    const cluster = new LocalMachineCluster(nodes, newClusterId(), options)
    try {
      await Promise.all(nodes.map((node) => cluster.start(node.id)))
    } catch (error) {
      await cluster.stopAll()
      throw error
    }
    return cluster
  }

  /** Every node's address, for a clerk's `servers`. */
  get addresses(): string[] {
    return this.nodes.map((node) => node.address)
  }

  /** (Re)starts node `id` on its data directory; resolves once it is ready. */
  start(id: string): Promise<void> {
    const node = this.node(id)
    const peers = formatPeers(this.nodes)
    return this.supervisor.start({
      id,
      args: [
        'node',
        '--id',
        id,
        '--peers',
        peers,
        '--cluster-id',
        this.clusterId,
        '--data',
        node.dataDirectory,
        '--machine',
        this.options.machinePath,
        ...(this.options.extraArgs ?? []),
      ],
      readyText: `lograft node ${id} ready`,
      dataDirectory: node.dataDirectory,
    })
  }

  /** SIGKILL: the node gets no chance to clean up. */
  kill(id: string): Promise<void> {
    return this.supervisor.kill(id)
  }

  /** Whether node `id`'s process has been started and has not exited (it may not be ready yet). */
  isRunning(id: string): boolean {
    return this.supervisor.isRunning(id)
  }

  /** What node `id` logged lately. */
  recentLog(id: string): string {
    return this.supervisor.recentErrorOutput(id)
  }

  /** Stops every node with SIGTERM and waits for them to exit. */
  stopAll(): Promise<void> {
    return this.supervisor.stopAll()
  }

  private node(id: string): LocalMachineNode {
    const node = this.nodes.find((candidate) => candidate.id === id)
    if (!node) throw new Error(`no node ${id} in this cluster`)
    return node
  }
}
