// A TCP server in a process of its own, for the floors the benchmarks measure against: what a byte
// costs, or how long it takes, between two processes on loopback, as between two lograft servers.

import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'

/** A peer process and this process's connection to it. */
export interface ConnectedPeer {
  readonly peer: ChildProcess
  readonly socket: net.Socket
}

/**
 * Runs `source` with `node -e` (given `args`) as `name`; the script must print its port once it
 * listens on loopback. Resolves once connected to it, with setNoDelay; the caller kills the peer.
 */
export async function connectToPeerProcess(name: string, source: string, args: readonly string[] = []): Promise<ConnectedPeer> {
  const peer = spawn(process.execPath, ['-e', source, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      peer.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())))
      peer.once('exit', (code) => reject(new Error(`the ${name} process exited (code ${code}) before listening`)))
    })
    const socket = net.connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    return { peer, socket }
  } catch (error) {
    peer.kill()
    throw error
  }
}
