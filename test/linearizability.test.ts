// The linearizability checker against histories whose verdict is known: hand-written scenarios
// (stale reads, duplicated appends, unknown outcomes), the reports of a failure, tiny random
// histories judged by brute force as well, and large histories of a simulated linearizable
// register, valid and with one read made stale.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { Rng } from '../src/base/rng.js'
import {
  checkEvents,
  checkOperations,
  formatReport,
  HistoryRecorder,
  kvModel,
  WHOLE_HISTORY_KEY,
  writeHtmlReport,
  type HistoryEvent,
  type KvInput,
  type KvOutput,
  type Model,
  type Operation,
} from '../src/testing/linearizability/index.js'
import { seededTest } from './helpers/sim.js'

type KvOperation = Operation<KvInput, KvOutput>

const kv = kvModel({ appendReturnsOld: false })

function put(clientId: number, key: string, value: string, callMs: number, returnMs: number): KvOperation {
  return { clientId, input: { op: 'put', key, value }, output: undefined, callMs, returnMs }
}

function get(clientId: number, key: string, seen: string, callMs: number, returnMs: number): KvOperation {
  return { clientId, input: { op: 'get', key, value: '' }, output: { value: seen }, callMs, returnMs }
}

function append(clientId: number, key: string, value: string, callMs: number, returnMs: number, old?: string): KvOperation {
  return { clientId, input: { op: 'append', key, value }, output: old === undefined ? undefined : { value: old }, callMs, returnMs }
}

function remove(clientId: number, key: string, callMs: number, returnMs: number): KvOperation {
  return { clientId, input: { op: 'delete', key, value: '' }, output: undefined, callMs, returnMs }
}

/** A put whose client gave up waiting: it may take effect any time after `callMs`, or never. */
function putGivenUp(clientId: number, key: string, value: string, callMs: number): KvOperation {
  return { clientId, input: { op: 'put', key, value }, output: undefined, callMs, returnMs: Infinity }
}

/** put x=1, then put x=2, then a get that still sees 1: the textbook stale read. */
const staleRead: KvOperation[] = [put(1, 'x', '1', 0, 10), put(2, 'x', '2', 20, 30), get(3, 'x', '1', 40, 50)]

t.test('a sequential history is linearizable', async (t) => {
  const history = [
    get(1, 'x', '', 0, 1),
    put(1, 'x', 'a', 2, 3),
    append(2, 'x', 'b', 4, 5),
    get(3, 'x', 'ab', 6, 7),
    remove(1, 'x', 8, 9),
    get(2, 'x', '', 10, 11),
  ]
  const result = checkOperations(kv, history)
  t.equal(result.outcome, 'ok')
  t.equal(result.partitionsChecked, 1)
})

t.test('overlapping puts and gets are linearizable when some order fits every read', async (t) => {
  const history = [
    put(1, 'x', '1', 0, 100),
    get(2, 'x', '', 10, 20), // before put 1 takes effect
    get(3, 'x', '1', 30, 40),
    put(4, 'x', '2', 35, 120),
    get(2, 'x', '1', 50, 60), // put 2 has not taken effect yet
    get(3, 'x', '2', 70, 80),
    get(2, 'x', '2', 130, 140),
  ]
  t.equal(checkOperations(kv, history).outcome, 'ok')
})

t.test('a read that misses a put completed before it began is illegal', async (t) => {
  const result = checkOperations(kv, staleRead)
  t.equal(result.outcome, 'illegal')
  if (result.outcome !== 'illegal') return
  t.equal(result.failure.key, 'x')
  t.same(
    result.failure.partialLinearization.map((step) => step.operationIndex),
    [0, 1],
    'the search got as far as both puts, and the read could not follow',
  )
})

t.test('an append applied twice is illegal', async (t) => {
  const history = [append(1, 'x', 'z', 0, 10), get(2, 'x', 'zz', 20, 30)]
  t.equal(checkOperations(kv, history).outcome, 'illegal')
})

t.test('two appends that both return the empty old value are illegal', async (t) => {
  const returnsOld = kvModel({ appendReturnsOld: true })
  const oneAfterAnother = [append(1, 'x', 'a', 0, 10, ''), append(2, 'x', 'b', 5, 15, 'a')]
  const bothFirst = [append(1, 'x', 'a', 0, 10, ''), append(2, 'x', 'b', 5, 15, '')]
  t.equal(checkOperations(returnsOld, oneAfterAnother).outcome, 'ok')
  t.equal(checkOperations(returnsOld, bothFirst).outcome, 'illegal')
})

t.test('a put with an unknown outcome may take effect long after the client gave up', async (t) => {
  const history = [putGivenUp(1, 'x', '1', 0), get(2, 'x', '', 10, 20), get(3, 'x', '1', 500, 510)]
  t.equal(checkOperations(kv, history).outcome, 'ok')
})

t.test('a put with an unknown outcome may never take effect', async (t) => {
  const history = [putGivenUp(1, 'x', '1', 0), get(2, 'x', '', 10, 20), get(3, 'x', '', 500, 510)]
  t.equal(checkOperations(kv, history).outcome, 'ok')
})

t.test('a put with an unknown outcome takes effect at most once and not before its call', async (t) => {
  const seenThenGone = [putGivenUp(1, 'x', '1', 0), get(2, 'x', '1', 10, 20), get(3, 'x', '', 30, 40)]
  const seenBeforeCalled = [get(2, 'x', '1', 0, 5), putGivenUp(1, 'x', '1', 10)]
  t.equal(checkOperations(kv, seenThenGone).outcome, 'illegal')
  t.equal(checkOperations(kv, seenBeforeCalled).outcome, 'illegal')
})

t.test('a put with an unknown outcome that a read may have seen still need not take effect', async (t) => {
  const history = [
    put(1, 'x', '1', 0, 1),
    get(2, 'x', '1', 2, 10), // explained by the first put, or by the one given up
    putGivenUp(3, 'x', '1', 3),
    put(4, 'x', '2', 4, 5),
  ]
  t.equal(checkOperations(kv, [...history, get(2, 'x', '2', 11, 12)]).outcome, 'ok')
  t.equal(checkOperations(kv, [...history, get(2, 'x', '1', 11, 12), get(4, 'x', '2', 13, 14)]).outcome, 'illegal')
})

t.test('a read with an unknown outcome constrains nothing', async (t) => {
  const readGivenUp: KvOperation = { clientId: 2, input: { op: 'get', key: 'x', value: '' }, output: undefined, callMs: 5, returnMs: Infinity }
  t.equal(checkOperations(kv, [put(1, 'x', '1', 0, 10), readGivenUp, get(3, 'x', '1', 20, 30)]).outcome, 'ok')
})

t.test('a read of a value nobody wrote is illegal', async (t) => {
  const history = [put(1, 'x', '1', 0, 10), put(2, 'x', '2', 5, 15), get(3, 'x', '3', 8, 20)]
  t.equal(checkOperations(kv, history).outcome, 'illegal')
})

t.test('histories are partitioned by key: a violation on one key is found and the others pass', async (t) => {
  const history = [
    put(1, 'a', '1', 0, 10),
    put(2, 'y', 'old', 0, 10),
    get(1, 'a', '1', 20, 30),
    put(2, 'y', 'new', 20, 30),
    put(3, 'b', '1', 25, 35),
    get(1, 'y', 'old', 40, 50),
    get(3, 'b', '1', 40, 50),
  ]
  const result = checkOperations(kv, history)
  t.equal(result.outcome, 'illegal')
  t.equal(result.partitionsTotal, 3)
  t.equal(result.partitionsChecked, 3)
  if (result.outcome !== 'illegal') return
  t.same(result.illegalKeys, ['y'])
  t.equal(result.failure.key, 'y')
  t.equal(result.failure.operations.length, 3, 'the failing history holds only the operations on y')
})

t.test('a model without a partition function is checked as one whole history', async (t) => {
  type CounterInput = { kind: 'increment' } | { kind: 'read' }
  const counter: Model<number, CounterInput, number> = {
    init: () => 0,
    step: (count, input, output) =>
      input.kind === 'increment' ? { ok: true, state: count + 1 } : { ok: output === undefined || output === count, state: count },
    key: (count) => String(count),
    describeOperation: (input, output) => (input.kind === 'increment' ? 'increment()' : `read() → ${output ?? '?'}`),
  }
  const increment = (clientId: number, callMs: number, returnMs: number): Operation<CounterInput, number> => ({
    clientId,
    input: { kind: 'increment' },
    output: undefined,
    callMs,
    returnMs,
  })
  const read = (clientId: number, seen: number, callMs: number, returnMs: number): Operation<CounterInput, number> => ({
    clientId,
    input: { kind: 'read' },
    output: seen,
    callMs,
    returnMs,
  })
  const concurrent = [increment(1, 0, 10), increment(2, 0, 10), read(3, 1, 5, 6)]
  t.equal(checkOperations(counter, [...concurrent, read(3, 2, 20, 21)]).outcome, 'ok')
  const result = checkOperations(counter, [...concurrent, read(3, 3, 20, 21)])
  t.equal(result.outcome, 'illegal')
  if (result.outcome === 'illegal') t.equal(result.failure.key, WHOLE_HISTORY_KEY)
})

t.test('the event-list form is checked like the operation form', async (t) => {
  const events = (stale: boolean): HistoryEvent<KvInput, KvOutput>[] => [
    { kind: 'call', id: 0, clientId: 1, input: { op: 'put', key: 'x', value: '1' } },
    { kind: 'call', id: 1, clientId: 2, input: { op: 'get', key: 'x', value: '' } },
    { kind: 'return', id: 0, output: undefined },
    { kind: 'return', id: 1, output: { value: '1' } },
    { kind: 'call', id: 2, clientId: 3, input: { op: 'put', key: 'x', value: '2' } },
    { kind: 'return', id: 2, output: undefined },
    { kind: 'call', id: 3, clientId: 1, input: { op: 'get', key: 'x', value: '' } },
    { kind: 'return', id: 3, output: { value: stale ? '1' : '2' } },
    // Called and never returned: an unknown outcome.
    { kind: 'call', id: 4, clientId: 2, input: { op: 'put', key: 'x', value: '3' } },
  ]
  t.equal(checkEvents(kv, events(false)).outcome, 'ok')
  t.equal(checkEvents(kv, events(true)).outcome, 'illegal')
  t.throws(() => checkEvents(kv, [{ kind: 'return', id: 9, output: undefined }]), { code: 'ERR_BAD_HISTORY' })
})

t.test('a malformed history is rejected, naming the operation', async (t) => {
  t.throws(() => checkOperations(kv, [put(1, 'x', '1', 0, 10), put(2, 'x', '2', 30, 20)]), {
    code: 'ERR_BAD_HISTORY',
    message: /operation 1 \(client 2\): returnMs 20 is before callMs 30/,
  })
  const outcomeUnknownWithOutput = { ...get(1, 'x', '1', 0, 10), returnMs: Infinity }
  t.throws(() => checkOperations(kv, [outcomeUnknownWithOutput]), { code: 'ERR_BAD_HISTORY' })
})

t.test('the recorder turns begin, end and giveUp into operations', async (t) => {
  const recorder = new HistoryRecorder<KvInput, KvOutput>()
  const write = recorder.begin(1, { op: 'put', key: 'x', value: '1' }, 0)
  const read = recorder.begin(2, { op: 'get', key: 'x', value: '' }, 1)
  const lost = recorder.begin(3, { op: 'put', key: 'x', value: '2' }, 2)
  recorder.begin(4, { op: 'append', key: 'x', value: '3' }, 3) // still pending: its client crashed
  write.end(undefined, 5)
  read.end({ value: '1' }, 6)
  lost.giveUp()
  t.throws(() => read.end({ value: '1' }, 7), { code: 'ERR_INVARIANT' }, 'an operation ends once')
  const operations = recorder.operations()
  t.same(
    operations.map((operation) => [operation.clientId, operation.callMs, operation.returnMs, operation.output]),
    [
      [1, 0, 5, undefined],
      [2, 1, 6, { value: '1' }],
      [3, 2, Infinity, undefined],
      [4, 3, Infinity, undefined],
    ],
  )
  t.equal(checkOperations(kv, operations).outcome, 'ok')
})

t.test('the text report names the failing key and lists its operations in call order', async (t) => {
  const result = checkOperations(kv, [put(9, 'other', 'fine', 0, 1), ...staleRead])
  const report = formatReport(result)
  t.comment(report)
  t.match(report, /not linearizable: key "x"/)
  const putOne = report.indexOf('put("x", "1")')
  const putTwo = report.indexOf('put("x", "2")')
  const staleGet = report.indexOf('get("x") → "1"')
  t.ok(putOne > 0 && putOne < putTwo && putTwo < staleGet, 'operations appear by call time')
  t.notMatch(report, /"other"/, 'the report shows only the failing key')
  t.match(report, /deepest partial linearization: 2 of 3 operations/)
  t.match(report, /stuck at #2 get\("x"\) → "1" \(client 3, 40–50 ms\)/)
  t.match(formatReport(checkOperations(kv, staleRead.slice(0, 2))), /^linearizable \(1 of 1 partitions, 2 operations/)
})

t.test('the HTML report is written as one self-contained file naming the failing key', async (t) => {
  const path = join(t.testdir(), 'reports', 'stale-read.html')
  // A put given up, and seen afterwards: its value also checks that text is escaped.
  const seenLater = [putGivenUp(4, 'x', '<script>', 60), get(5, 'x', '<script>', 70, 80)]
  await writeHtmlReport(checkOperations(kv, [...staleRead, ...seenLater]), path)
  const html = await readFile(path, 'utf8')
  t.match(html, /^<!doctype html>/)
  t.match(html, /Not linearizable: key &#34;x&#34;/)
  t.equal((html.match(/class="op[ "]/g) ?? []).length, 5, 'one box per operation')
  t.match(html, /class="op stuck"/)
  t.match(html, /class="op[^"]*unknown"/, 'the put given up is drawn as an unknown outcome')
  t.notMatch(html, /<script|src=|href=/, 'no scripts and no external assets')
})

interface RegisterHistoryOptions {
  clients: number
  operationsPerClient: number
  /** An operation takes between these long, and takes effect at a uniformly random moment in it. */
  minLatencyMs: number
  maxLatencyMs: number
  /** A client waits up to this long between operations. */
  maxThinkMs: number
  /** Chance that a client gives up on an operation, leaving its outcome unknown. */
  giveUpChance: number
}

/**
 * Clients issuing random operations on one key of a linearizable register: each operation takes
 * effect atomically at a random instant between its call and its return, so the history is
 * linearizable by construction. Put values are unique and never produced by appends.
 */
function simulateRegister(rng: Rng, options: RegisterHistoryOptions): KvOperation[] {
  const effects: Array<{ operation: KvOperation; effectMs: number; takesEffect: boolean }> = []
  for (let clientId = 0; clientId < options.clients; clientId++) {
    let nowMs = rng.float() * options.maxThinkMs
    for (let i = 0; i < options.operationsPerClient; i++) {
      const roll = rng.float()
      const op = roll < 0.5 ? 'get' : roll < 0.8 ? 'put' : roll < 0.95 ? 'append' : 'delete'
      const value = op === 'put' ? `v${clientId}.${i}` : op === 'append' ? `+a${clientId}.${i}` : ''
      const callMs = nowMs
      const returnMs = callMs + options.minLatencyMs + rng.float() * (options.maxLatencyMs - options.minLatencyMs)
      const givenUp = rng.chance(options.giveUpChance)
      effects.push({
        operation: { clientId, input: { op, key: 'r', value }, output: undefined, callMs, returnMs: givenUp ? Infinity : returnMs },
        effectMs: callMs + rng.float() * (returnMs - callMs),
        takesEffect: !givenUp || rng.chance(0.5),
      })
      nowMs = returnMs + rng.float() * options.maxThinkMs
    }
  }
  let register = ''
  const history: KvOperation[] = []
  for (const { operation, takesEffect } of effects.sort((a, b) => a.effectMs - b.effectMs)) {
    const { op, value } = operation.input
    const observed = op === 'get' && takesEffect && operation.returnMs !== Infinity
    history.push(observed ? { ...operation, output: { value: register } } : operation)
    if (!takesEffect) continue
    if (op === 'put') register = value
    if (op === 'append') register += value
    if (op === 'delete') register = ''
  }
  return history.sort((a, b) => a.callMs - b.callMs)
}

/**
 * Makes the first known-outcome get from the middle on read the value of a put X that a later put
 * Y overwrote before the get began (X returned before Y was called, Y before the get was called).
 */
function makeOneReadStale(history: readonly KvOperation[]): { history: KvOperation[]; index: number } {
  const known = (operation: KvOperation): boolean => operation.returnMs !== Infinity
  const puts = history.filter((operation) => operation.input.op === 'put' && known(operation))
  for (let index = Math.floor(history.length / 2); index < history.length; index++) {
    const read = history[index] as KvOperation
    if (read.input.op !== 'get' || !known(read)) continue
    const overwriter = puts.findLast((operation) => operation.returnMs < read.callMs)
    const overwritten = overwriter && puts.findLast((operation) => operation.returnMs < overwriter.callMs)
    if (overwritten === undefined) continue
    const mutated = [...history]
    mutated[index] = { ...read, output: { value: overwritten.input.value } }
    return { history: mutated, index }
  }
  throw new Error('no read in the second half of the history can be made stale')
}

seededTest(t, 'a large random history of a linearizable register checks ok quickly, and illegal with one stale read', async (seed, t) => {
  const clients = 10
  const history = simulateRegister(new Rng(seed), {
    clients,
    operationsPerClient: 500,
    minLatencyMs: 1,
    maxLatencyMs: 8,
    maxThinkMs: 5,
    giveUpChance: 0.002,
  })
  const valid = checkOperations(kv, history)
  t.comment(`${history.length} operations on one key from ${clients} clients: ${valid.outcome} in ${valid.elapsedMs.toFixed(1)} ms`)
  t.equal(valid.outcome, 'ok')

  const stale = makeOneReadStale(history)
  const invalid = checkOperations(kv, stale.history)
  t.comment(`the same history with read #${stale.index} made stale: ${invalid.outcome} in ${invalid.elapsedMs.toFixed(1)} ms`)
  t.equal(invalid.outcome, 'illegal')
  const report = formatReport(invalid)
  t.match(report, /earlier operations not shown/, 'the report shows a window around the failure')
  t.ok(report.split('\n').length < 300, 'and stays short')
})

/** Every order of the operations that respects real time, tried one by one: for tiny histories. */
function bruteForceLinearizable<State, Input, Output>(model: Model<State, Input, Output>, operations: readonly Operation<Input, Output>[]): boolean {
  const extend = (state: State, left: readonly Operation<Input, Output>[]): boolean => {
    if (left.every((operation) => operation.returnMs === Infinity)) return true
    const earliestReturnMs = Math.min(...left.map((operation) => operation.returnMs))
    return left.some((operation) => {
      if (operation.callMs > earliestReturnMs) return false
      const next = model.step(state, operation.input, operation.output)
      return (
        next.ok &&
        extend(
          next.state,
          left.filter((other) => other !== operation),
        )
      )
    })
  }
  return extend(model.init(), operations)
}

/** A few clients doing a few random operations on one key, with random (often impossible) results. */
function randomTinyHistory(rng: Rng, appendReturnsOld: boolean): KvOperation[] {
  const history: KvOperation[] = []
  const someValue = (): KvOutput => ({ value: rng.pick(['', 'a', 'b', 'ab', 'ba', 'aa']) })
  for (let clientId = 0; clientId < 3; clientId++) {
    let nowMs = rng.int(4)
    for (let i = rng.intBetween(1, 4); i > 0; i--) {
      const callMs = nowMs
      const returnMs = rng.chance(0.15) ? Infinity : callMs + rng.intBetween(0, 6)
      const op = rng.pick(['get', 'put', 'append', 'delete'] as const)
      const value = op === 'put' || op === 'append' ? rng.pick(['a', 'b']) : ''
      const observes = op === 'get' || (op === 'append' && appendReturnsOld)
      const output = observes && returnMs !== Infinity ? someValue() : undefined
      history.push({ clientId, input: { op, key: 'x', value }, output, callMs, returnMs })
      if (returnMs === Infinity) break
      nowMs = returnMs + rng.int(3)
    }
  }
  return history
}

seededTest(t, 'the checker agrees with brute force on hundreds of tiny random histories', async (seed, t) => {
  const rng = new Rng(seed)
  const verdicts = { ok: 0, illegal: 0 }
  for (let i = 0; i < 400; i++) {
    const appendReturnsOld = rng.chance(0.5)
    const model = kvModel({ appendReturnsOld })
    const history = randomTinyHistory(rng, appendReturnsOld)
    const expected = bruteForceLinearizable(model, history) ? 'ok' : 'illegal'
    const outcome = checkOperations(model, history).outcome
    if (outcome !== expected) {
      t.fail(`history ${i} (appendReturnsOld ${appendReturnsOld}): checker says ${outcome}, brute force says ${expected}: ${JSON.stringify(history)}`)
      return
    }
    verdicts[expected]++
  }
  t.comment(`${verdicts.ok} linearizable, ${verdicts.illegal} not`)
  t.ok(verdicts.ok > 40 && verdicts.illegal > 40, 'both verdicts are well represented')
})

t.test('a pathological history with a tiny budget gives unknown instead of hanging', async (t) => {
  // Twelve concurrent appends have 12! orders that all reach different states, and the final read
  // matches none of them, so the search has to try every one before it can say illegal.
  const appends = Array.from({ length: 12 }, (_, i) => append(i, 'x', `<${i}>`, 0, 100))
  const result = checkOperations(kv, [...appends, get(12, 'x', 'impossible', 200, 201)], { timeoutMs: 20 })
  t.comment(`gave up after ${result.elapsedMs.toFixed(1)} ms`)
  t.equal(result.outcome, 'unknown')
  t.equal(result.partitionsChecked, 0)
  t.ok(result.elapsedMs < 1_000, 'the budget is honoured')
  t.match(formatReport(result), /^unknown: the 20 ms budget ran out/)
})

t.test('appends that return the new length are placed by it: a consistent history is ok, a doubled length is illegal', async (t) => {
  const model = kvModel({ appendReturnsOld: false, appendReturnsLength: true })
  const appendWithLength = (clientId: number, value: string, callMs: number, returnMs: number, length: number): KvOperation => ({
    clientId,
    input: { op: 'append', key: 'k', value },
    output: { value: '', length },
    callMs,
    returnMs,
  })
  // Twelve concurrent appends to one key: their lengths fix the order, so the check is immediate.
  const concurrent = Array.from({ length: 12 }, (_, i) => appendWithLength(i, `<${String(i).padStart(2, '0')}>`, 0, 100, 4 * (12 - i)))
  const final = get(99, 'k', Array.from({ length: 12 }, (_, i) => `<${String(11 - i).padStart(2, '0')}>`).join(''), 200, 210)
  const ok = checkOperations(model, [...concurrent, final], { timeoutMs: 5000 })
  t.equal(ok.outcome, 'ok')
  t.ok(ok.elapsedMs < 1000, `checked in ${ok.elapsedMs.toFixed(1)} ms`)
  const doubled = [appendWithLength(1, 'ab', 0, 10, 2), appendWithLength(2, 'cd', 20, 30, 2)]
  t.equal(checkOperations(model, doubled).outcome, 'illegal', 'two appends cannot both leave the value 2 long')
})

t.test('a given-up append that no read saw still counts when a later append’s length shows it', async (t) => {
  const model = kvModel({ appendReturnsOld: false, appendReturnsLength: true })
  const history: KvOperation[] = [
    { clientId: 1, input: { op: 'append', key: 'k', value: 'aa' }, output: undefined, callMs: 0, returnMs: Infinity },
    { clientId: 2, input: { op: 'append', key: 'k', value: 'bb' }, output: { value: '', length: 4 }, callMs: 10, returnMs: 20 },
    put(2, 'k', 'x', 30, 40),
    get(3, 'k', 'x', 50, 60),
  ]
  t.equal(checkOperations(model, history).outcome, 'ok', 'the unknown append took effect before the one that saw length 4')
  const impossible = [...history.slice(1, 2).map((op) => ({ ...op, output: { value: '', length: 6 } })), ...history.slice(2)]
  t.equal(checkOperations(model, impossible).outcome, 'illegal', 'but no history explains a length of 6')
})
