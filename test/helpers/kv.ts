// Shared pieces of the KV lab tests: clerk operations that record the history for the
// linearizability checker, and the labs' checks on appended values.

import type { Test } from 'tap'
import type { SimWorld } from '../../src/sim/world.js'
import type { KvClerk } from '../../src/kv/kv-clerk.js'
import {
  HistoryRecorder,
  type KvInput,
  type KvOutput,
  checkOperations,
  formatReport,
  kvModel,
  writeHtmlReport,
} from '../../src/testing/linearizability/index.js'

export type KvHistory = HistoryRecorder<KvInput, KvOutput>

export function newHistory(): KvHistory {
  return new HistoryRecorder<KvInput, KvOutput>()
}

export async function put(world: SimWorld, clerk: KvClerk, key: string, value: string, history: KvHistory | null, client: number): Promise<void> {
  const op = history?.begin(client, { op: 'put', key, value }, world.clock.now())
  await clerk.put(key, value)
  op?.end(undefined, world.clock.now())
}

export async function get(world: SimWorld, clerk: KvClerk, key: string, history: KvHistory | null, client: number): Promise<string> {
  const op = history?.begin(client, { op: 'get', key, value: '' }, world.clock.now())
  const value = await clerk.get(key)
  op?.end({ value }, world.clock.now())
  return value
}

/** Append; returns the old value when the server returns it (Lab 2), '' otherwise. */
export async function append(
  world: SimWorld,
  clerk: KvClerk,
  key: string,
  value: string,
  history: KvHistory | null,
  client: number,
  returnsOld: boolean,
): Promise<string> {
  const op = history?.begin(client, { op: 'append', key, value }, world.clock.now())
  const result = await clerk.append(key, value)
  op?.end(returnsOld ? { value: result.value } : { value: '', length: result.length }, world.clock.now())
  return result.value
}

/** The value client `client` appends as its j-th append. */
export function appendValue(client: number, j: number): string {
  return `x ${client} ${j} y`
}

/** Each of the client's `count` appends appears in `value` exactly once, in order. */
export function checkClientAppends(t: Test, client: number, value: string, count: number): void {
  let lastOffset = -1
  for (let j = 0; j < count; j++) {
    const wanted = appendValue(client, j)
    const offset = value.indexOf(wanted)
    if (offset < 0) {
      t.fail(`client ${client}: ${wanted} missing from the value`)
      return
    }
    if (value.lastIndexOf(wanted) !== offset) {
      t.fail(`client ${client}: ${wanted} appears twice`)
      return
    }
    if (offset <= lastOffset) {
      t.fail(`client ${client}: ${wanted} is out of order`)
      return
    }
    lastOffset = offset
  }
  t.pass(`client ${client}: all ${count} appends present once, in order`)
}

/** For each client i, its counts[i] appends to one shared key appear exactly once, in order. */
export function checkConcurrentAppends(t: Test, value: string, counts: readonly number[]): void {
  counts.forEach((count, client) => checkClientAppends(t, client, value, count))
}

/** Runs the checker over the history; on a violation writes an HTML report and fails with the text one. */
export function checkLinearizable(t: Test, history: KvHistory, appendReturnsOld: boolean, reportName: string, options: { withExpiry?: boolean } = {}): void {
  const model = kvModel({ appendReturnsOld, appendReturnsLength: !appendReturnsOld, withExpiry: options.withExpiry === true })
  const result = checkOperations(model, history.operations(), { timeoutMs: 20_000 })
  if (result.outcome === 'illegal') {
    const path = `${process.env.TMPDIR ?? '/tmp'}/lograft-${reportName}-linearizability.html`
    writeHtmlReport(result, path)
    t.fail(`history is not linearizable (HTML timeline: ${path})\n${formatReport(result)}`)
    return
  }
  t.equal(result.outcome, 'ok', `history of ${result.operationsTotal} operations is linearizable (checked in ${result.elapsedMs.toFixed(0)} ms)`)
}
