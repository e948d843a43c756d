// MIT 6.5840 Lab 2's memory tests: the server must not keep values, old results or per-client
// state it no longer needs. Each scenario runs in a fresh process with --expose-gc and reports how
// much heap (plus external memory, where Node keeps large strings) grew after forced collections.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const MIB = 1024 * 1024
const scenarioProgram = fileURLToPath(new URL('./fixtures/kv-memory-scenario.js', import.meta.url))

type Report = { grownBytes: number } & Record<string, number | boolean | number[] | undefined>

async function measure(scenario: string): Promise<Report> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', scenarioProgram, scenario], { maxBuffer: 1 << 20 })
  return JSON.parse(stdout) as Report
}

t.test('MemGet: a 10 MiB value, read by two clerks and overwritten, is not kept', async (t) => {
  const report = await measure('get')
  t.same(report.reads, [report.written, report.written], 'both clerks read the whole value')
  t.ok(report.grownBytes < 10 * MIB, `memory grew by ${(report.grownBytes / MIB).toFixed(2)} MiB (< 10)`)
})

t.test('MemPut: a 10 MiB value overwritten by another clerk is not kept', async (t) => {
  const report = await measure('put')
  t.ok(report.grownBytes < 10 * MIB, `memory grew by ${(report.grownBytes / MIB).toFixed(2)} MiB (< 10)`)
})

t.test('MemAppend: two 10 MiB appends keep at most 30 MiB', async (t) => {
  const report = await measure('append')
  t.equal(report.valueBytes, 20 * MIB, 'the value holds both appends')
  t.ok(report.grownBytes <= 30 * MIB, `memory grew by ${(report.grownBytes / MIB).toFixed(2)} MiB (≤ 30)`)
})

t.test('MemPutManyClients: 100,000 clerks each putting 1000 bytes cost ≤ 200 bytes per client', async (t) => {
  const report = await measure('put-many-clients')
  const perClient = report.grownBytes / (report.clients as number)
  t.ok(report.lastPutStored, 'the value is stored')
  t.ok(perClient <= 200, `${perClient.toFixed(1)} bytes per client (≤ 200)`)
})

t.test('MemGetManyClients: 100,000 clerks each doing one Get cost < 10 bytes per client', async (t) => {
  const report = await measure('get-many-clients')
  const perClient = report.grownBytes / (report.clients as number)
  t.ok(perClient < 10, `${perClient.toFixed(2)} bytes per client (< 10)`)
})

t.test('MemManyAppends: 1000 appends of 1000 bytes keep < 3 MB', async (t) => {
  const report = await measure('many-appends')
  t.equal(report.valueBytes, 1_000_000, 'the value holds all 1000 appends')
  t.ok(report.grownBytes < 3_000_000, `memory grew by ${(report.grownBytes / 1e6).toFixed(2)} MB (< 3)`)
})
