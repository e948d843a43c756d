// `lograft demo foundation`: a short tour of the bottom layers — the durable log on LevelDB, the
// TCP transport, and the simulated network — printing what each one did.

import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { openDiskLog } from '../log/backends.js'
import type { LogEntry } from '../log/types.js'
import { protoCodec } from '../rpc/proto.js'
import { handler, invoke, rpcMethod } from '../rpc/service.js'
import { TcpTransport } from '../rpc/tcp-transport.js'
import { isRpcError } from '../rpc/errors.js'
import { SimWorld } from '../sim/world.js'
import { sleep } from '../base/clock.js'
import { silentLogger } from '../base/logger.js'

interface EchoRequest {
  text: string
  data: Uint8Array
  delayMs: number
}
interface EchoReply {
  text: string
  data: Uint8Array
  servedBy: string
  sequence: number
}

const echo = rpcMethod(
  'Echo',
  'Echo',
  protoCodec<EchoRequest>('echo.proto', 'lograft.echo.EchoRequest'),
  protoCodec<EchoReply>('echo.proto', 'lograft.echo.EchoReply'),
)

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

async function logTour(directory: string): Promise<void> {
  say(`\n== durable log (classic-level, fsync) in ${directory}`)
  rmSync(directory, { recursive: true, force: true })
  mkdirSync(directory, { recursive: true })
  const log = await openDiskLog(directory)
  const payload = new TextEncoder().encode('x'.repeat(100))
  const started = performance.now()
  const writes: Array<Promise<void>> = []
  for (let index = 1; index <= 1000; index++) writes.push(log.append([{ index, term: 1, type: 0, data: payload }]))
  await Promise.all(writes)
  const stats = log.groupCommitStats
  say(
    `appended 1000 entries concurrently in ${(performance.now() - started).toFixed(0)} ms: ${stats.writes} writes in ${stats.batches} synced batches (group commit)`,
  )
  await log.append([{ index: 990, term: 2, type: 0, data: payload }])
  say(`appended index 990 at term 2: the conflicting suffix was truncated, last index now ${log.lastIndex}`)
  await log.saveSnapshot({ lastIncludedIndex: 500, lastIncludedTerm: 1 }, new TextEncoder().encode('state through 500'))
  const entries: LogEntry[] = await log.readEntries(501, log.lastIndex)
  say(`snapshot through 500 installed; log now ${log.firstIndex}..${log.lastIndex}, read back ${entries.length} checksum-verified entries`)
  const sizes = log.sizes()
  say(`raft state ${sizes.raftStateBytes} bytes, snapshot ${sizes.snapshotBytes} bytes`)
  await log.readEntry(10).catch((error: Error) => say(`reading index 10: ${error.message}`))
  await log.close()
}

async function tcpTour(): Promise<void> {
  say('\n== TCP transport (length-prefixed protobuf frames)')
  const server = await TcpTransport.start({ self: 'server', listen: { host: '127.0.0.1', port: 0 }, logger: silentLogger })
  let served = 0
  server.register('Echo', { Echo: handler(echo, (request) => ({ text: request.text, data: request.data, servedBy: 'server', sequence: ++served })) })
  const address = server.address as { host: string; port: number }
  const client = await TcpTransport.start({ self: 'client', peers: { server: `${address.host}:${address.port}` }, logger: silentLogger, backoffInitialMs: 20 })
  const started = performance.now()
  const replies = await Promise.all(
    Array.from({ length: 200 }, (_, i) => invoke(client, 'server', echo, { text: `call ${i}`, data: new Uint8Array(0), delayMs: 0 })),
  )
  say(
    `200 concurrent calls on one connection in ${(performance.now() - started).toFixed(1)} ms; every reply matched: ${replies.every((reply, i) => reply.text === `call ${i}`)}`,
  )
  await server.close()
  const failure = await invoke(client, 'server', echo, { text: 'after stop', data: new Uint8Array(0), delayMs: 0 }).catch((error: unknown) => error)
  say(`after the server stops, a call fails with ${isRpcError(failure) ? failure.code : String(failure)}`)
  await client.close()
}

async function simulationTour(seed: number): Promise<void> {
  say(`\n== simulated network (the labrpc fault model), unreliable, seed ${seed}`)
  const run = async (): Promise<string> => {
    const world = new SimWorld({ seed })
    world.network.setReliable(false)
    const server = world.attachNode('server', [])
    server.transport.register('Echo', { Echo: handler(echo, (request) => ({ text: request.text, data: request.data, servedBy: 'server', sequence: 0 })) })
    const client = world.attachNode('client', ['server'])
    return world.run(async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          invoke(client.transport, 'server', echo, { text: `${i}`, data: new Uint8Array(0), delayMs: 0 }).then(
            () => 'ok',
            (error: unknown) => (isRpcError(error) ? error.code : 'error'),
          ),
        ),
      )
      await sleep(world.clock, 0)
      const ok = outcomes.filter((outcome) => outcome === 'ok').length
      return `${ok} of 100 calls succeeded, ${100 - ok} lost; ${world.network.totalRpcs} RPCs, ${world.network.totalBytes} bytes, ${world.clock.now()} ms of virtual time`
    })
  }
  const first = await run()
  const second = await run()
  say(first)
  say(`the same seed again gives the same run: ${first === second}`)
}

export async function demoFoundation(dataDirectory: string): Promise<void> {
  await logTour(join(dataDirectory, 'demo-log'))
  await tcpTour()
  await simulationTour(42)
}
