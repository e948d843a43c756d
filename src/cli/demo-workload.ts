// What the demos share: RESP clients that run random SET/APPEND/GET on a few keys and record every
// operation, and the linearizability check of the recorded history at the end.

import type { RespClient } from '../resp/client.js'
import { type KvInput, type KvOutput, HistoryRecorder, checkOperations, formatReport, kvModel, writeHtmlReport } from '../testing/linearizability/index.js'
import { replyText } from './resp-probe.js'

const CHECK_TIMEOUT_MS = 30_000

export function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export class DemoWorkload {
  readonly history = new HistoryRecorder<KvInput, KvOutput>()
  completed = 0
  unknown = 0
  private stopped = false
  private readonly clients: Promise<void>[] = []

  /**
   * Starts `clients` clients on keys `${keyPrefix}:k0`.. `k${keys - 1}`; each connects with
   * `connect` (null: nothing to connect to yet) and reconnects after any failure.
   */
  constructor(clients: number, keyPrefix: string, keys: number, connect: () => Promise<RespClient | null>) {
    for (let client = 0; client < clients; client++) this.clients.push(this.run(client, keyPrefix, keys, connect))
  }

  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all(this.clients)
  }

  /** Checks the history; on a violation writes the timeline to `reportPath` and sets a failing exit code. */
  async check(reportPath: string, unknownNote = ''): Promise<void> {
    const result = checkOperations(kvModel({ appendReturnsOld: false, appendReturnsLength: true }), this.history.operations(), { timeoutMs: CHECK_TIMEOUT_MS })
    say(`${this.completed} operations completed, ${this.unknown} with unknown outcome${unknownNote}`)
    if (result.outcome === 'illegal') {
      await writeHtmlReport(result, reportPath)
      say(formatReport(result))
      say(`NOT linearizable: timeline in ${reportPath}`)
      process.exitCode = 1
    } else {
      say(
        `linearizable: ${result.outcome === 'ok' ? 'yes' : 'check timed out'} (${result.operationsTotal} operations on ${result.partitionsTotal} keys, checked in ${result.elapsedMs.toFixed(0)} ms)`,
      )
    }
  }

  private async run(client: number, keyPrefix: string, keys: number, connect: () => Promise<RespClient | null>): Promise<void> {
    let connection: RespClient | null = null
    for (let n = 0; !this.stopped; n++) {
      connection ??= await connect().catch(() => null)
      if (!connection) {
        await pause(50)
        continue
      }
      const key = `${keyPrefix}:k${Math.floor(Math.random() * keys)}`
      const value = `${client}.${n};`
      const choice = Math.random()
      const input: KvInput = choice < 0.2 ? { op: 'put', key, value } : choice < 0.6 ? { op: 'append', key, value } : { op: 'get', key, value: '' }
      const op = this.history.begin(client, input, performance.now())
      try {
        const words = input.op === 'put' ? ['SET', key, value] : input.op === 'append' ? ['APPEND', key, value] : ['GET', key]
        const text = replyText(await connection.call(...words))
        op.end(outputOf(input, text), performance.now())
        this.completed++
      } catch {
        // A server died, or could not complete the request in time: the outcome is unknown.
        op.giveUp()
        this.unknown++
        await connection.close()
        connection = null
      }
    }
    await connection?.close()
  }
}

/** What the history records of a reply: a GET's value, an APPEND's new length (RESP's integer reply). */
function outputOf(input: KvInput, text: string): KvOutput | undefined {
  if (input.op === 'get') return { value: text }
  if (input.op === 'append') return { value: '', length: Number(text) }
  return undefined
}
