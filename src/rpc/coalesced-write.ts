// Frames written to one socket in the same event-loop turn leave in one system call. A leader
// answers every forwarded request that one apply batch completed, and a follower forwards the
// requests of every client socket that one poll read, each to the same peer connection; written
// one by one, each frame cost a send() of its own, the largest single cost of a busy node.

import type { Socket } from 'node:net'

/** Sockets corked by writeCoalesced and not yet uncorked: each holds exactly one cork of ours. */
const corked = new Set<Socket>()

/** Writes `chunk` to `socket`, flushing everything written this turn together (in setImmediate, or at flushCoalesced). */
export function writeCoalesced(socket: Socket, chunk: Uint8Array): void {
  if (!corked.has(socket)) {
    corked.add(socket)
    socket.cork()
    setImmediate(() => uncork(socket))
  }
  socket.write(chunk)
}

/**
 * Sends what every socket holds now, instead of at the next turn's setImmediate: for a caller that
 * has written all it has for this turn (a Raft node at the end of its pump, whose AppendEntries
 * would otherwise wait a whole turn of the event loop before leaving).
 */
export function flushCoalesced(): void {
  for (const socket of corked) uncork(socket)
}

function uncork(socket: Socket): void {
  // A socket flushed early may have been corked again since; its own setImmediate uncorks it then.
  if (!corked.delete(socket)) return
  socket.uncork()
}
