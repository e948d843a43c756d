// Finds the app a job runs: a built-in by name (wc, indexer, the lab's test apps) or a module by
// path, checked to export map and reduce (and, optionally, combine) as functions.

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { BUILTIN_APPS } from './apps/index.js'
import { MapReduceError } from './errors.js'
import type { MapReduceApp } from './types.js'

/** True if `spec` names a built-in app rather than a module path. */
export function isBuiltinApp(spec: string): boolean {
  return Object.hasOwn(BUILTIN_APPS, spec)
}

/**
 * The app `spec` names: a built-in by name (wc, indexer, the lab's test apps) or a JavaScript module
 * by path, which exports map and reduce (and optionally combine) as functions, by name or on its
 * default export. Rejects with MapReduceError ERR_MR_APP_LOAD if it cannot be imported, and
 * ERR_MR_APP_SHAPE if it lacks those functions.
 */
export async function loadApp(spec: string): Promise<MapReduceApp> {
  let module: unknown
  const builtin = isBuiltinApp(spec) ? BUILTIN_APPS[spec] : undefined
  try {
    module = builtin ? await builtin() : await import(pathToFileURL(resolve(spec)).href)
  } catch (error) {
    const names = Object.keys(BUILTIN_APPS).join(', ')
    throw new MapReduceError(
      'ERR_MR_APP_LOAD',
      `cannot load app "${spec}": ${(error as Error).message} (built-in apps: ${names}; anything else is a path to a JavaScript module)`,
    )
  }
  return checkApp(spec, module)
}

/** A module's named exports, or those of an object it exports as default. */
function checkApp(spec: string, module: unknown): MapReduceApp {
  const exports = module as Record<string, unknown>
  const candidate = typeof exports.map === 'function' ? exports : (exports.default as Record<string, unknown> | undefined)
  const map = candidate?.map
  const reduce = candidate?.reduce
  const combine = candidate?.combine
  const missing = [typeof map === 'function' ? null : 'map', typeof reduce === 'function' ? null : 'reduce'].filter((name) => name !== null)
  if (missing.length > 0) {
    throw new MapReduceError(
      'ERR_MR_APP_SHAPE',
      `app "${spec}" does not export ${missing.join(' or ')} as a function: an app exports map(filename, contents) and reduce(key, values)`,
    )
  }
  if (combine !== undefined && typeof combine !== 'function') {
    throw new MapReduceError('ERR_MR_APP_SHAPE', `app "${spec}" exports combine, but not as a function`)
  }
  return {
    map: map as MapReduceApp['map'],
    reduce: reduce as MapReduceApp['reduce'],
    ...(combine ? { combine: combine as MapReduceApp['reduce'] } : {}),
  }
}
