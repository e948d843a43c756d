// A lograft KV cluster of real `lograft node` processes for the process tests: free loopback ports,
// RESP connections to its nodes, their INFO fields, and the command-line tools (redis-cli,
// redis-benchmark, `lograft log`) run as child processes.

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type ExitListener, LocalCluster, type LocalClusterLayout, type LocalNode, localLayout } from '../../src/cli/supervisor.js'
import { infoFields, replyText } from '../../src/cli/resp-probe.js'
import { RespClient } from '../../src/resp/client.js'
import { freePortBlock } from '../../src/testing/ports.js'
import { makeTempDir } from './log.js'

export { RespErrorReply as ErrorReply, infoFields, replyText } from '../../src/cli/resp-probe.js'

export const LOGRAFT_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
const HOST = '127.0.0.1'
const POLL_INTERVAL_MS = 50
/** A command-line tool still running after this is stuck; it is killed and reported. */
const TOOL_TIMEOUT_MS = 30_000

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export { freePortBlock } from '../../src/testing/ports.js'

export interface KvProcessCluster {
  readonly cluster: LocalCluster
  readonly nodes: readonly LocalNode[]
  /** Holds node-1, node-2, ... */
  readonly dataDirectory: string
  /** Stops every node and removes the data directories (unless `keepData`). */
  stop(keepData: boolean): Promise<void>
}

export interface KvClusterOptions {
  /** Arguments every `lograft node` gets. */
  extraArgs?: readonly string[]
  /** Arguments one node gets (e.g. its own certificate). */
  nodeArgs?: (id: string) => readonly string[]
  onExit?: ExitListener
  /** Changes the layout before the nodes start (e.g. to list a member that never runs). */
  adjustLayout?: (layout: LocalClusterLayout) => LocalClusterLayout
}

/**
 * Starts `count` nodes (raft on base+1..base+count, RESP on the `count` ports after those) with
 * their data in a fresh temp directory.
 */
export async function startKvCluster(count: number, options: KvClusterOptions = {}): Promise<KvProcessCluster> {
  const data = makeTempDir('kv-processes')
  const base = await freePortBlock(2 * count)
  const layout = (options.adjustLayout ?? ((same) => same))(localLayout(count, data.path, HOST, base, base + count))
  const cluster = new LocalCluster(layout, options.extraArgs ?? [], options.onExit, options.nodeArgs)
  try {
    await cluster.startAll()
  } catch (error) {
    await cluster.stopAll()
    data.remove()
    throw error
  }
  return {
    cluster,
    nodes: layout.nodes,
    dataDirectory: data.path,
    async stop(keepData) {
      await cluster.stopAll()
      if (!keepData) data.remove()
    },
  }
}

export function respPort(node: LocalNode): number {
  return Number(node.respAddress.slice(node.respAddress.lastIndexOf(':') + 1))
}

/** The running node whose INFO says role:leader, polled until `timeoutMs`; null if none. */
export async function waitForLeader(cluster: LocalCluster, timeoutMs: number): Promise<LocalNode | null> {
  const deadline = performance.now() + timeoutMs
  do {
    for (const node of cluster.layout.nodes) {
      if (!cluster.isRunning(node.id)) continue
      if ((await infoFields(respPort(node)))?.get('role') === 'leader') return node
    }
    await pause(POLL_INTERVAL_MS)
  } while (performance.now() < deadline)
  return null
}

export interface ToolRun {
  code: number | null
  stdout: Buffer
  stderr: string
}

/** Runs `program` with `args`, feeding it `stdin`; resolves when it exits (killed after 30 s). */
export function runTool(program: string, args: readonly string[], stdin: string | Buffer = ''): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    const stdout: Buffer[] = []
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS)
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout: Buffer.concat(stdout), stderr })
    })
    // A tool that exits without reading all of stdin closes the pipe; that is its answer, not ours to report.
    child.stdin.on('error', () => {})
    child.stdin.end(stdin)
  })
}

/** Runs `lograft ARGS` (the compiled CLI) in its own process. */
export function lograft(...args: string[]): Promise<ToolRun> {
  return runTool(process.execPath, [LOGRAFT_MAIN, ...args])
}

/** Sends one command on a fresh RESP connection to `port` and returns the reply as text (an error reply throws). */
export async function respCommand(port: number, ...words: string[]): Promise<string> {
  const client = await RespClient.connect(port)
  try {
    return replyText(await client.call(...words))
  } finally {
    await client.close()
  }
}

/** Polls `check` every 100 ms until it holds (true) or `timeoutMs` passes (false). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (await check()) return true
    await pause(POLL_INTERVAL_MS * 2)
  }
  return false
}
