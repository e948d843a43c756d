// The least CPU that moving a shard into a three-server group can cost on this machine, whatever the
// design: each of the three servers must receive the shard's bytes from another process, write them
// to disk synced, and turn them into the keys and values of its map. bench:shard measures the three
// here, as CPU milliseconds per MB of keys and values, and reads the move it measured against their
// sum: how far the move is above that floor, and how fast a move at the floor could go with what
// the clients leave of the machine's cores.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { connectToPeerProcess } from './peer-process.js'

/** CPU ms per MB (10^6 bytes) of each step a move's bytes take on one server, and their sum over three. */
export interface MoveFloor {
  /** Sending on loopback TCP, and receiving in another process: both sides' CPU. */
  readonly transferMsPerMB: number
  /** classic-level puts of chunk-sized values with sync, LevelDB's own threads included. */
  readonly syncedWriteMsPerMB: number
  /** Decoding length-prefixed keys and values into strings in a Map. */
  readonly keyMapMsPerMB: number
  /** Three servers, each receiving, writing and mapping the shard once. */
  readonly moveMsPerMB: number
}

/** A sink in a process of its own: prints its port, reads `bytes`, then prints the CPU ms it used and exits. */
const SINK_PROCESS_SOURCE = `
const bytes = Number(process.argv[1])
const server = require('node:net').createServer((socket) => {
  const startCpu = process.cpuUsage()
  let received = 0
  socket.on('data', (chunk) => {
    const before = received
    received += chunk.length
    if (before >= bytes || received < bytes) return
    const used = process.cpuUsage(startCpu)
    socket.end(JSON.stringify((used.user + used.system) / 1000))
  })
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))`

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/** Both sides' CPU ms to send `bytes` in `chunkBytes` writes to another process on loopback TCP. */
async function transferCpuMs(bytes: number, chunkBytes: number): Promise<number> {
  const { peer: sink, socket } = await connectToPeerProcess('sink', SINK_PROCESS_SOURCE, [String(bytes)])
  try {
    const receiverMs = new Promise<number>((resolve) => {
      let reply = ''
      socket.on('data', (chunk: Buffer) => (reply += chunk.toString()))
      socket.once('end', () => resolve(Number(reply)))
    })
    const chunk = Buffer.alloc(chunkBytes, 0x76)
    const startCpu = process.cpuUsage()
    for (let sent = 0; sent < bytes; sent += chunkBytes) {
      if (!socket.write(chunk.subarray(0, Math.min(chunkBytes, bytes - sent)))) await new Promise((resolve) => socket.once('drain', resolve))
    }
    // Measured once the receiver has everything, so no write still queued here goes uncounted.
    const received = await receiverMs
    const total = cpuMsSince(startCpu) + received
    socket.destroy()
    return total
  } finally {
    sink.kill()
  }
}

/** CPU ms to put `bytes` as `chunkBytes` values, each synced, into a fresh classic-level database. */
async function syncedWriteCpuMs(bytes: number, chunkBytes: number): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-bench-floor-'))
  const db = new ClassicLevel<string, Buffer>(directory, { valueEncoding: 'buffer' })
  try {
    await db.open()
    const chunk = Buffer.alloc(chunkBytes, 0x76)
    const startCpu = process.cpuUsage()
    for (let index = 0; index * chunkBytes < bytes; index++) await db.put(String(index).padStart(10, '0'), chunk, { sync: true })
    return cpuMsSince(startCpu)
  } finally {
    await db.close()
    rmSync(directory, { recursive: true, force: true })
  }
}

/** CPU ms to decode `keys` with `valueBytes`-byte values (each a 4-byte length and its bytes) into a Map of strings. */
function keyMapCpuMs(keys: readonly string[], valueBytes: number): number {
  const value = 'v'.repeat(valueBytes)
  const encoded = Buffer.allocUnsafe(keys.reduce((total, key) => total + 8 + key.length + valueBytes, 0))
  let offset = 0
  for (const key of keys) {
    for (const text of [key, value]) {
      offset = encoded.writeUInt32BE(text.length, offset)
      offset += encoded.write(text, offset, 'latin1')
    }
  }
  const startCpu = process.cpuUsage()
  const map = new Map<string, string>()
  for (let at = 0; at < encoded.length;) {
    const keyLength = encoded.readUInt32BE(at)
    const key = encoded.toString('latin1', at + 4, at + 4 + keyLength)
    at += 4 + keyLength
    const valueLength = encoded.readUInt32BE(at)
    map.set(key, encoded.toString('latin1', at + 4, at + 4 + valueLength))
    at += 4 + valueLength
  }
  const ms = cpuMsSince(startCpu)
  if (map.size !== new Set(keys).size) throw new Error(`the key map holds ${map.size} keys, not ${keys.length}`)
  return ms
}

/**
 * Each step is measured this many times and its least CPU kept: a floor is the best case, and
 * building the Map alone varied from 5 to 20 ms per MB from run to run with the collector's timing.
 */
const FLOOR_RUNS = 10

async function leastOf(measure: () => number | Promise<number>): Promise<number> {
  let least = Number.POSITIVE_INFINITY
  for (let run = 0; run < FLOOR_RUNS; run++) least = Math.min(least, await measure())
  return least
}

/** Measures the floor for a shard of `keys` with `valueBytes`-byte values, sent in `chunkBytes` chunks. */
export async function measureMoveFloor(keys: readonly string[], valueBytes: number, chunkBytes: number): Promise<MoveFloor> {
  const bytes = keys.reduce((total, key) => total + key.length + valueBytes, 0)
  const mb = bytes / 1e6
  const transferMsPerMB = (await leastOf(() => transferCpuMs(bytes, chunkBytes))) / mb
  const syncedWriteMsPerMB = (await leastOf(() => syncedWriteCpuMs(bytes, chunkBytes))) / mb
  const keyMapMsPerMB = (await leastOf(() => keyMapCpuMs(keys, valueBytes))) / mb
  return { transferMsPerMB, syncedWriteMsPerMB, keyMapMsPerMB, moveMsPerMB: 3 * (transferMsPerMB + syncedWriteMsPerMB + keyMapMsPerMB) }
}
