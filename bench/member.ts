// How fast a new server joins (issue 12): a 3-node lograft cluster on loopback (classic-level,
// fsync) is filled with DATA_MB of KV data; a fourth `lograft node --join` then catches up (by
// snapshot, then the log) and is promoted, while clients keep writing. Printed side by side, in the
// same run: the catch-up's MB/s next to a raw loopback TCP copy and raw synced LevelDB writes of
// the same bytes, and the clients' write latency during the catch-up next to the same load without.
//
// Run with `npm run bench:member`; DATA_MB (200), VALUE_BYTES (1000), CLIENTS (8) and
// WINDOW_MS (5000) override the defaults.

import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { LocalCluster, ProcessSupervisor, localLayout } from '../src/cli/supervisor.js'
import { infoFields } from '../src/cli/resp-probe.js'
import { RespClient } from '../src/resp/client.js'
import { type LoadOptions, measureLoad, summarize } from './kv-load.js'
import { respKvClient } from './kv-lograft.js'
import type { KvClient } from './kv-system.js'
import { freePortBlock } from '../src/testing/ports.js'
import { printTable } from './table.js'

const DATA_MB = Number(process.env.DATA_MB ?? 200)
const VALUE_BYTES = Number(process.env.VALUE_BYTES ?? 1000)
const CLIENTS = Number(process.env.CLIENTS ?? 8)
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 5000)
const FILL_CONNECTIONS = 32
const FILL_PIPELINE = 64
const HOST = '127.0.0.1'
const MB = 1024 * 1024

const root = mkdtempSync(join(tmpdir(), 'lograft-bench-member-'))
const base = await freePortBlock(10)
const layout = localLayout(3, join(root, 'cluster'), HOST, base, base + 4)
const cluster = new LocalCluster(layout, ['--max-raft-state', String(32 * MB)])
const joiners = new ProcessSupervisor()
const cleanUp = async (): Promise<void> => {
  await joiners.stopAll()
  await cluster.stopAll()
  rmSync(root, { recursive: true, force: true })
}
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)))

const respPort = (address: string): number => Number(address.slice(address.lastIndexOf(':') + 1))
const ports = layout.nodes.map((node) => respPort(node.respAddress))

async function leaderPort(): Promise<number> {
  for (;;) {
    for (const port of ports) if ((await infoFields(port))?.get('role') === 'leader') return port
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** DATA_MB of keys and values, pipelined over many connections to the leader. */
async function fill(port: number): Promise<number> {
  const keys = Math.ceil((DATA_MB * MB) / VALUE_BYTES)
  const value = Buffer.alloc(VALUE_BYTES, 0x61)
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: FILL_CONNECTIONS }, async () => {
      const client = await RespClient.connect(port)
      try {
        while (next < keys) {
          const batch: Array<Promise<unknown>> = []
          for (let i = 0; i < FILL_PIPELINE && next < keys; i++) batch.push(client.call('SET', `fill:${next++}`, value))
          await Promise.all(batch)
        }
      } finally {
        await client.close()
      }
    }),
  )
  return (performance.now() - started) / 1000
}

function setClients(port: number, count: number): Promise<KvClient[]> {
  return Promise.all(Array.from({ length: count }, async () => respKvClient(await RespClient.connect(port))))
}

/** A window of the clients' load: SETs of new keys with 100-byte values. */
function setLoad(keyPrefix: string, warmupMs: number, measureMs: number): LoadOptions {
  return { workload: { kind: 'set' }, valueBytes: 100, warmupMs, measureMs, keyPrefix, seed: 0 }
}

/** Seconds until the new node is a voter whose applied index reached the leader's commit index at the start. */
async function joinAndWait(joinVia: string): Promise<{ seconds: number; snapshotBytes: number }> {
  const address = `${HOST}:${base + 8}`
  const resp = `${HOST}:${base + 9}`
  const leaderInfo = await infoFields(await leaderPort())
  const snapshotBytes = Number(leaderInfo?.get('snapshot_bytes') ?? 0) + Number(leaderInfo?.get('raft_state_bytes') ?? 0)
  const started = performance.now()
  await joiners.start({
    id: '4',
    args: ['node', '--id', '4', '--listen', address, '--join', joinVia, '--data', join(root, 'node-4'), '--resp', resp],
    readyText: 'lograft node 4 ready',
    dataDirectory: join(root, 'node-4'),
  })
  for (;;) {
    const info = await infoFields(await leaderPort())
    const line = [...(info?.entries() ?? [])].find(([key, value]) => key.startsWith('member') && value.startsWith('id=4,'))?.[1] ?? ''
    if (/role=voter/.test(line)) return { seconds: (performance.now() - started) / 1000, snapshotBytes }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A raw loopback TCP copy of `bytes`, in 1 MiB writes, to a server that discards them. */
async function rawTcpCopy(bytes: number): Promise<number> {
  const server = net.createServer((socket) => socket.resume())
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  const { port } = server.address() as net.AddressInfo
  const chunk = Buffer.alloc(MB, 0x62)
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host: HOST, port }, async () => {
      for (let sent = 0; sent < bytes; sent += chunk.length) {
        if (!socket.write(chunk)) await new Promise((drained) => socket.once('drain', drained))
      }
      socket.end(resolve)
    })
    socket.on('error', reject)
  })
  const seconds = (performance.now() - started) / 1000
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return seconds
}

/** Raw classic-level writes of `bytes`: values of VALUE_BYTES in synced batches of 1 MiB. */
async function rawLevelDbWrites(bytes: number): Promise<number> {
  const db = new ClassicLevel<string, Buffer>(join(root, 'raw-leveldb'), { valueEncoding: 'buffer' })
  await db.open()
  const value = Buffer.alloc(VALUE_BYTES, 0x63)
  const perBatch = Math.max(1, Math.floor(MB / VALUE_BYTES))
  const started = performance.now()
  let written = 0
  for (let key = 0; written < bytes;) {
    const batch = db.batch()
    for (let i = 0; i < perBatch; i++, key++) batch.put(`raw:${key}`, value)
    await batch.write({ sync: true })
    written += perBatch * VALUE_BYTES
  }
  const seconds = (performance.now() - started) / 1000
  await db.close()
  return seconds
}

try {
  await cluster.startAll()
  const port = await leaderPort()
  process.stderr.write(`filling ${DATA_MB} MB (${VALUE_BYTES}-byte values)...\n`)
  const fillSeconds = await fill(port)
  process.stderr.write(`filled in ${fillSeconds.toFixed(1)} s; measuring the load without a catch-up...\n`)
  const clients = await setClients(port, CLIENTS)
  const quiet = summarize([await measureLoad(clients, setLoad('quiet', 500, WINDOW_MS))])
  process.stderr.write('node 4 joins...\n')
  let joined: { seconds: number; snapshotBytes: number } | null = null
  const joining = joinAndWait(layout.nodes[0]?.raftAddress ?? '').then((result) => (joined = result))
  const windows = []
  while (joined === null) windows.push(await measureLoad(clients, setLoad(`during-${windows.length}`, 0, 500)))
  await joining
  const during = summarize(windows)
  for (const client of clients) await client.close()
  const catchUp = joined as { seconds: number; snapshotBytes: number }
  const moved = catchUp.snapshotBytes
  const tcpSeconds = await rawTcpCopy(moved)
  const levelSeconds = await rawLevelDbWrites(moved)

  console.log(
    `a 3-node cluster holding ${DATA_MB} MB of KV data (${VALUE_BYTES}-byte values) on loopback, fsync on; ${CLIENTS} clients SET 100-byte values throughout`,
  )
  console.log(`data the new node received: ${(moved / MB).toFixed(1)} MB (the leader's snapshot and log)`)
  console.log()
  const rate = (seconds: number): string => (moved / MB / seconds).toFixed(1)
  printTable(
    ['transfer', 'seconds', 'MB/s', 'lograft takes ×'],
    [
      ['lograft: --join to promoted voter', catchUp.seconds.toFixed(2), rate(catchUp.seconds), '1.00'],
      ['raw loopback TCP copy', tcpSeconds.toFixed(2), rate(tcpSeconds), (catchUp.seconds / tcpSeconds).toFixed(2)],
      ['raw LevelDB writes (1 MiB synced batches)', levelSeconds.toFixed(2), rate(levelSeconds), (catchUp.seconds / levelSeconds).toFixed(2)],
    ],
  )
  console.log()
  printTable(
    ['client SETs', 'SET/s', 'p50 ms', 'p99 ms', 'errors'],
    [
      ['no catch-up', quiet.opsPerSecond.toFixed(0), quiet.p50Ms.toFixed(2), quiet.p99Ms.toFixed(2), String(quiet.errors)],
      ['during the catch-up', during.opsPerSecond.toFixed(0), during.p50Ms.toFixed(2), during.p99Ms.toFixed(2), String(during.errors)],
    ],
  )
} finally {
  await cleanUp()
}
