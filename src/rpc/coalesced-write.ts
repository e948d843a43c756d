// Frames written to one socket in the same event-loop turn leave in one system call. A leader
// answers every forwarded request that one apply batch completed, and a follower forwards the
// requests of every client socket that one poll read, each to the same peer connection; written
// one by one, each frame cost a send() of its own, the largest single cost of a busy node.

import type { Socket } from 'node:net'

const corked = new WeakSet<Socket>()

/** Writes `chunk` to `socket`, flushing everything written this turn together (in setImmediate). */
export function writeCoalesced(socket: Socket, chunk: Uint8Array): void {
  if (!corked.has(socket)) {
    corked.add(socket)
    socket.cork()
    setImmediate(() => {
      corked.delete(socket)
      socket.uncork()
    })
  }
  socket.write(chunk)
}
