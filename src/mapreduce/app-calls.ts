// Calling the app's map, combine and reduce: checking what they return and turning anything they
// throw into an AppRecordError that names the record. Shared by the workers and the sequential runner.

import { FRAMEWORK_COUNTERS, type CounterSet } from './counters.js'
import { AppRecordError } from './errors.js'
import type { KeyValue, MapReduceApp, ReduceFunction } from './types.js'

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function isKeyValue(pair: unknown): pair is KeyValue {
  return typeof pair === 'object' && pair !== null && typeof (pair as KeyValue).key === 'string' && typeof (pair as KeyValue).value === 'string'
}

/** map(file, contents), checked: an array of { key, value } strings. */
export async function callMap(app: MapReduceApp, inputFile: string, contents: string, counters: CounterSet): Promise<KeyValue[]> {
  let pairs: unknown
  try {
    const result = app.map(inputFile, contents, counters)
    pairs = isThenable(result) ? await result : result
  } catch (error) {
    throw new AppRecordError(inputFile, error, 'map')
  }
  if (!Array.isArray(pairs)) throw new AppRecordError(inputFile, new TypeError(`map returned ${typeof pairs}, not an array of { key, value }`), 'map')
  for (const pair of pairs) {
    if (!isKeyValue(pair)) throw new AppRecordError(inputFile, new TypeError(`map returned ${JSON.stringify(pair)}, not a { key, value } of strings`), 'map')
  }
  counters.add(FRAMEWORK_COUNTERS.mapOutputRecords, pairs.length)
  return pairs as KeyValue[]
}

/**
 * reduce(key, values) or combine(key, values), checked: a string. A failure is charged to `record`:
 * the key in a reduce task, the input file in a map task (whose one record is its input).
 */
async function callReduce(
  reduce: ReduceFunction,
  key: string,
  values: string[],
  counters: CounterSet,
  phase: 'map' | 'reduce',
  record: string,
): Promise<string> {
  let output: unknown
  try {
    const result = reduce(key, values, counters)
    output = isThenable(result) ? await result : result
  } catch (error) {
    throw new AppRecordError(record, error, phase)
  }
  if (typeof output !== 'string') {
    throw new AppRecordError(
      record,
      new TypeError(`${phase === 'map' ? 'combine' : 'reduce'} of ${JSON.stringify(key)} returned ${typeof output}, not a string`),
      phase,
    )
  }
  return output
}

/** Groups pairs by key, in first-seen order. */
export function groupByKey(pairs: readonly KeyValue[], into = new Map<string, string[]>()): Map<string, string[]> {
  for (const { key, value } of pairs) {
    const values = into.get(key)
    if (values) values.push(value)
    else into.set(key, [value])
  }
  return into
}

/** One map task's pairs for one partition, folded by the app's combiner: one pair per key. */
export async function combinePairs(app: MapReduceApp, inputFile: string, pairs: readonly KeyValue[], counters: CounterSet): Promise<KeyValue[]> {
  if (!app.combine) return [...pairs]
  const combined: KeyValue[] = []
  for (const [key, values] of groupByKey(pairs)) combined.push({ key, value: await callReduce(app.combine, key, values, counters, 'map', inputFile) })
  counters.add(FRAMEWORK_COUNTERS.combineInputRecords, pairs.length)
  counters.add(FRAMEWORK_COUNTERS.combineOutputRecords, combined.length)
  return combined
}

/**
 * Reduces every group in key order and returns the output file's text, one "key value" line per
 * key. Keys in `skip` are left out (and counted as skipped).
 */
export async function reduceGroups(app: MapReduceApp, groups: Map<string, string[]>, skip: ReadonlySet<string>, counters: CounterSet): Promise<string> {
  const keys = [...groups.keys()].sort()
  let text = ''
  let records = 0
  let outputs = 0
  for (const key of keys) {
    const values = groups.get(key) as string[]
    records += values.length
    if (skip.has(key)) {
      counters.add(FRAMEWORK_COUNTERS.skippedRecords, 1)
      continue
    }
    text += `${key} ${await callReduce(app.reduce, key, values, counters, 'reduce', key)}\n`
    outputs++
  }
  counters.add(FRAMEWORK_COUNTERS.reduceInputGroups, keys.length)
  counters.add(FRAMEWORK_COUNTERS.reduceInputRecords, records)
  counters.add(FRAMEWORK_COUNTERS.reduceOutputRecords, outputs)
  return text
}
