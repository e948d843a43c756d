// Calling the app's map, combine and reduce: checking what they emit and return, and turning
// anything they throw into an AppRecordError that names the record. Shared by the workers and the
// sequential runner. An app's function is called without a promise around it unless it returns
// one: a combine or reduce per key is called millions of times in a big job.

import { assert } from '../base/assert.js'
import { FRAMEWORK_COUNTERS, type CounterSet } from './counters.js'
import { AppRecordError } from './errors.js'
import type { KeyGroups, ValueGroup } from './key-groups.js'
import type { KeyValue, MapContext, MapReduceApp, ReduceFunction } from './types.js'

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function isKeyValue(pair: unknown): pair is KeyValue {
  return typeof pair === 'object' && pair !== null && typeof (pair as KeyValue).key === 'string' && typeof (pair as KeyValue).value === 'string'
}

/** map(file, contents), checked: every pair it emits or returns is added to `into`, in that order. */
export async function callMap(app: MapReduceApp, inputFile: string, contents: string, counters: CounterSet, into: KeyGroups): Promise<void> {
  const pairsBefore = into.pairCount
  let returned = false
  const context: MapContext = {
    increment: (name, by) => counters.increment(name, by),
    emit: (key, value) => {
      if (returned) throw new TypeError(`emit(${JSON.stringify(key)}, …) after map of ${JSON.stringify(inputFile)} returned`)
      if (typeof key !== 'string' || typeof value !== 'string') {
        throw new TypeError(`map emitted a ${typeof key} key and a ${typeof value} value, not two strings`)
      }
      into.add(key, value)
    },
  }
  let pairs: unknown
  try {
    const result = app.map(inputFile, contents, context)
    pairs = isThenable(result) ? await result : result
  } catch (error) {
    throw new AppRecordError(inputFile, error, 'map')
  } finally {
    returned = true
  }
  if (pairs !== undefined) {
    if (!Array.isArray(pairs)) throw new AppRecordError(inputFile, new TypeError(`map returned ${typeof pairs}, not an array of { key, value }`), 'map')
    for (const pair of pairs) {
      if (!isKeyValue(pair)) throw new AppRecordError(inputFile, new TypeError(`map returned ${JSON.stringify(pair)}, not a { key, value } of strings`), 'map')
      into.add(pair.key, pair.value)
    }
  }
  counters.add(FRAMEWORK_COUNTERS.mapOutputRecords, into.pairCount - pairsBefore)
}

/**
 * reduce(key, values) or combine(key, values), checked: a string, or a promise of one if the app's
 * function returned a promise. A failure is charged to `record`: the key in a reduce task, an
 * input file in a map task (see combineGroups).
 */
function callReduce(
  reduce: ReduceFunction,
  key: string,
  values: string[],
  counters: CounterSet,
  phase: 'map' | 'reduce',
  record: string,
): string | Promise<string> {
  const check = (output: unknown): string => {
    if (typeof output === 'string') return output
    const what = `${phase === 'map' ? 'combine' : 'reduce'} of ${JSON.stringify(key)} returned ${typeof output}, not a string`
    throw new AppRecordError(record, new TypeError(what), phase)
  }
  let result: string | Promise<string>
  try {
    result = reduce(key, values, counters)
  } catch (error) {
    throw new AppRecordError(record, error, phase)
  }
  if (!isThenable(result)) return check(result)
  return result.then(check, (error: unknown) => {
    throw new AppRecordError(record, error, phase)
  })
}

/**
 * One map task's groups, folded by the app's combiner (one value per key) or as they are without
 * one: `write` is called with each key's group and each value to write for it. A combiner failure
 * on a key is charged to the input file whose map first emitted the key (`inputFiles` by
 * KeyGroups.source): skipping that file is what a task per file did, and if another file of the
 * task has the key too, the next failure is charged to that one.
 */
export async function combineGroups(
  app: MapReduceApp,
  inputFiles: readonly string[],
  groups: KeyGroups,
  counters: CounterSet,
  write: (group: ValueGroup, value: string) => void,
): Promise<void> {
  const all = groups.groups()
  if (!app.combine) {
    for (const group of all) for (const value of group.values()) write(group, value)
    return
  }
  for (const group of all) {
    const record = inputFiles[group.firstSource]
    assert(record !== undefined, 'a group’s first value came from one of the task’s inputs')
    const output = callReduce(app.combine, group.key, group.values(), counters, 'map', record)
    write(group, typeof output === 'string' ? output : await output)
  }
  counters.add(FRAMEWORK_COUNTERS.combineInputRecords, groups.pairCount)
  counters.add(FRAMEWORK_COUNTERS.combineOutputRecords, all.length)
}

/**
 * Reduces every group in key order and returns the output file's text, one "key value" line per
 * key. Keys in `skip` are left out (and counted as skipped).
 */
export async function reduceGroups(app: MapReduceApp, groups: KeyGroups, skip: ReadonlySet<string>, counters: CounterSet): Promise<string> {
  const sorted = groups.sortedGroups()
  let text = ''
  let outputs = 0
  for (const group of sorted) {
    if (skip.has(group.key)) {
      counters.add(FRAMEWORK_COUNTERS.skippedRecords, 1)
      continue
    }
    const output = callReduce(app.reduce, group.key, group.values(), counters, 'reduce', group.key)
    text += `${group.key} ${typeof output === 'string' ? output : await output}\n`
    outputs++
  }
  counters.add(FRAMEWORK_COUNTERS.reduceInputGroups, sorted.length)
  counters.add(FRAMEWORK_COUNTERS.reduceInputRecords, groups.pairCount)
  counters.add(FRAMEWORK_COUNTERS.reduceOutputRecords, outputs)
  return text
}
