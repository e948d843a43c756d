// Finds a state machine by module path, as `lograft node --machine`, `lograft call` and `lograft
// log replay --machine` take it: a JavaScript module that exports the machine as `machine` or as
// its default export, checked to have what a machine must have.

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { StateMachine } from './types.js'

/**
 * Thrown by {@link loadMachine} when the module cannot be imported, exports no machine, or its
 * machine lacks a name, a function or a codec (the message lists what is missing).
 */
export class MachineLoadError extends Error {
  readonly code = 'ERR_MACHINE_LOAD'
}

const FUNCTIONS = ['initial', 'apply', 'isReadOnly'] as const
const CODECS = ['commandCodec', 'resultCodec', 'stateCodec'] as const

/** The machine the module at `path` exports (as `machine`, or as default). */
export async function loadMachine(path: string): Promise<StateMachine<unknown, unknown, unknown>> {
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>
  } catch (error) {
    throw new MachineLoadError(`cannot load the machine module ${path}: ${(error as Error).message}`)
  }
  const candidate = (module.machine ?? module.default) as Record<string, unknown> | undefined
  if (typeof candidate !== 'object' || candidate === null) {
    throw new MachineLoadError(`${path} exports no machine: export it as \`machine\` or as the default export`)
  }
  const missing = [
    ...(typeof candidate.name === 'string' ? [] : ['name']),
    ...FUNCTIONS.filter((name) => typeof candidate[name] !== 'function'),
    ...CODECS.filter((name) => typeof (candidate[name] as { encode?: unknown; decode?: unknown } | undefined)?.decode !== 'function'),
  ]
  if (missing.length > 0) throw new MachineLoadError(`the machine in ${path} lacks ${missing.join(', ')}`)
  return candidate as unknown as StateMachine<unknown, unknown, unknown>
}
