// `lograft log inspect` and `lograft log replay`: look inside a node's data directory (the node
// must be stopped: LevelDB allows one process at a time). Both read the log as the KV's by default,
// or as any machine's with --machine PATH (a module exporting it); inspect shows raw bytes with
// --machine raw, and for any entry the machine cannot decode. Replay runs the same fold as the live
// node, so "what did the state look like at index N?" has the answer the node would have given.

import { openExistingDiskLog } from '../log/backends.js'
import type { LogEntry } from '../log/types.js'
import { configurationCodec } from '../raft/configuration-codec.js'
import { EntryType } from '../raft/types.js'
import { envelopeCodec } from '../statemachine/envelope.js'
import { loadMachine } from '../statemachine/machine-loader.js'
import { replayLog } from '../statemachine/replay.js'
import type { StateMachine } from '../statemachine/types.js'
import { type KvCommand, type KvState, type KvValue, commandKeys, kvMachine } from '../kv/kv.js'
import { UsageError, parseFlags, requireInteger } from './usage.js'
import { LOG_USAGE } from './usage-text.js'

type AnyMachine = StateMachine<unknown, unknown, unknown>
/** --machine raw: no machine, the bytes as they are. */
const RAW = 'raw'

/** The KV by default, raw bytes, or the machine the module at `spec` exports. */
async function machineFor(spec: string | undefined): Promise<AnyMachine | null> {
  if (spec === undefined) return kvMachine({ appendReturnsOldValue: false }) as unknown as AnyMachine
  if (spec === RAW) return null
  return loadMachine(spec)
}

interface DecodedEntry {
  index: number
  term: number
  type: 'command' | 'noop' | 'configuration' | 'unknown'
  clientId?: number
  sequence?: number
  timeMs?: number
  /** The command as the machine decodes it; absent when shown raw. */
  command?: unknown
  /** The entry's data in hex, when there is no machine or it could not decode it. */
  hex?: string
  /** Why it is shown raw. */
  undecodable?: string
}

const HEX_PREVIEW_BYTES = 48
const COMMAND_PREVIEW_CHARS = 120

function hexOf(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.subarray(0, HEX_PREVIEW_BYTES)).toString('hex')
  return bytes.length > HEX_PREVIEW_BYTES ? `${shown}… (${bytes.length} bytes)` : shown
}

function decodeEntry(entry: LogEntry, machine: AnyMachine | null): DecodedEntry {
  const base = { index: entry.index, term: entry.term }
  if (entry.type === EntryType.Noop) return { ...base, type: 'noop' }
  if (entry.type === EntryType.Configuration) {
    const configuration = configurationCodec.decode(entry.data)
    return {
      ...base,
      type: 'configuration',
      command: { voters: configuration.voters.map((m) => `${m.id}@${m.address}`), learners: configuration.learners.map((m) => `${m.id}@${m.address}`) },
    }
  }
  if (entry.type !== EntryType.Command || machine === null)
    return { ...base, type: entry.type === EntryType.Command ? 'command' : 'unknown', hex: hexOf(entry.data) }
  try {
    const envelope = envelopeCodec.decode(entry.data)
    return {
      ...base,
      type: 'command',
      clientId: envelope.clientId,
      sequence: envelope.sequence,
      timeMs: envelope.timeMs,
      command: machine.commandCodec.decode(envelope.command),
    }
  } catch (error) {
    return { ...base, type: 'command', hex: hexOf(entry.data), undecodable: (error as Error).message }
  }
}

function preview(text: string, maxChars = 40): string {
  const shown = JSON.stringify(text.length > maxChars ? `${text.slice(0, maxChars)}…` : text)
  return text.length > maxChars ? `${shown} (${text.length} bytes)` : shown
}

/** Ops whose value is data worth showing (put's value, incr's delta, a pattern). */
const VALUE_OPS = new Set(['put', 'append', 'incr', 'incrbyfloat', 'setrange', 'hincrby'])

/** A KV command in one line: its op, keys (and fields), value, condition and expiry; a transaction's commands in brackets. */
function describeKvCommand(command: KvCommand): string {
  if (command.op === 'multi') {
    const watched = command.watches?.length ? ` watching ${command.watches.map((watch) => preview(watch.key)).join(' ')}` : ''
    return `${'multi'.padEnd(7)} [${(command.commands ?? []).map(describeKvCommand).join('; ')}]${watched}`
  }
  const keys = commandKeys(command)
  const fields = command.fields?.length ? ` {${command.fields.map((field) => preview(field)).join(' ')}}` : ''
  const value = VALUE_OPS.has(command.op) ? ` = ${preview(command.value)}` : ''
  const condition = command.condition ? ` ${command.condition.toUpperCase()}` : ''
  const expiry = command.expiry
    ? ` ${command.expiry.kind === 'in' ? `PX ${command.expiry.ms}` : command.expiry.kind === 'at' ? `PXAT ${command.expiry.ms}` : command.expiry.kind.toUpperCase()}`
    : ''
  return `${command.op.padEnd(7)} ${keys.map((key) => preview(key)).join(' ')}${fields}${value}${condition}${expiry}`
}

/** One line for an entry's command: the KV's own format, else JSON, else hex. */
function describeCommand(decoded: DecodedEntry, isKv: boolean): string {
  if (decoded.hex !== undefined) return `${decoded.undecodable ? `(not a command of this machine: ${decoded.undecodable}) ` : ''}${decoded.hex}`
  if (isKv) return describeKvCommand(decoded.command as KvCommand)
  const json = JSON.stringify(decoded.command) ?? 'undefined'
  return json.length > COMMAND_PREVIEW_CHARS ? `${json.slice(0, COMMAND_PREVIEW_CHARS)}… (${json.length} characters)` : json
}

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

export async function inspectCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false }, machine: { type: 'string' } },
  })
  const directory = positionals[0]
  if (!directory || positionals.length > 1) throw new UsageError(`log inspect needs one data directory\n${LOG_USAGE}`)
  const machine = await machineFor(values.machine)
  const isKv = values.machine === undefined
  const store = await openExistingDiskLog(directory)
  try {
    const from = requireInteger('from', values.from, store.firstIndex, 1)
    const to = Math.min(requireInteger('to', values.to, store.lastIndex, 0), store.lastIndex)
    const snapshot = store.snapshotMeta
    const sizes = store.sizes()
    if (values.json) {
      say(
        JSON.stringify({
          identity: store.identity,
          hardState: store.hardState,
          snapshot: snapshot && { ...snapshot, appMeta: undefined, configuration: undefined },
          firstIndex: store.firstIndex,
          lastIndex: store.lastIndex,
          sizes,
        }),
      )
    } else {
      const hard = store.hardState
      const identity = store.identity
      say(`data directory  ${directory}`)
      say(
        identity
          ? `identity        node ${identity.nodeId} of cluster ${identity.clusterId}, incarnation ${identity.incarnation}`
          : 'identity        (none recorded)',
      )
      if (identity?.lostState) say(`LOST STATE      ${identity.lostState}`)
      say(`hard state      term ${hard.term}, voted for ${hard.votedFor ?? '(none)'}, commit ${hard.commitIndex}`)
      say(
        snapshot
          ? `snapshot        through index ${snapshot.lastIncludedIndex} (term ${snapshot.lastIncludedTerm}), ${snapshot.sizeBytes} bytes in ${snapshot.chunkCount} chunks`
          : 'snapshot        none',
      )
      say(
        `log             indexes ${store.firstIndex}..${store.lastIndex} (${Math.max(0, store.lastIndex - store.firstIndex + 1)} entries), read as ${machine?.name ?? 'raw bytes'}`,
      )
      say(`sizes           raft state ${sizes.raftStateBytes} bytes, snapshot ${sizes.snapshotBytes} bytes`)
      say('')
      say(isKv ? 'index    term  kind     client            seq  op      key / value' : 'index    term  kind           client            seq  command')
    }
    if (from <= to) {
      for (const entry of await store.readEntries(from, to)) {
        const decoded = decodeEntry(entry, machine)
        if (values.json) say(JSON.stringify(decoded))
        else if (decoded.type === 'command') {
          const kind = isKv ? 'command' : 'command       '
          say(
            `${String(decoded.index).padEnd(8)} ${String(decoded.term).padStart(5)}  ${kind}  ${String(decoded.clientId ?? '').padEnd(17)} ${String(decoded.sequence ?? '').padStart(4)}  ${describeCommand(decoded, isKv)}`,
          )
        } else if (decoded.type === 'configuration') {
          say(`${String(decoded.index).padEnd(8)} ${String(decoded.term).padStart(5)}  configuration  ${JSON.stringify(decoded.command)}`)
        } else {
          say(`${String(decoded.index).padEnd(8)} ${String(decoded.term).padStart(5)}  ${decoded.type}${decoded.hex ? `  ${decoded.hex}` : ''}`)
        }
      }
    }
  } finally {
    await store.close()
  }
}

/** A value as the text listing shows it: a string previewed, a hash as its fields. */
function showValue(value: KvValue): string {
  if (typeof value === 'string') return preview(value, 60)
  return `hash {${[...value].map(([field, item]) => `${preview(field)}: ${preview(item, 30)}`).join(', ')}}`
}

/** A state as JSON: Maps become objects (string keys) or arrays of pairs, Sets arrays. */
function toJson(value: unknown): unknown {
  if (value instanceof Map) {
    const entries = [...value.entries()].map(([key, item]) => [key, toJson(item)] as const)
    return entries.every(([key]) => typeof key === 'string') ? Object.fromEntries(entries) : entries
  }
  if (value instanceof Set) return [...value].map(toJson)
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (Array.isArray(value)) return value.map(toJson)
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toJson(item)]))
  return value
}

export async function replayCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { to: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean', default: false }, machine: { type: 'string' } },
  })
  const directory = positionals[0]
  if (!directory || positionals.length > 1) throw new UsageError(`log replay needs one data directory\n${LOG_USAGE}`)
  if (values.machine === RAW) throw new UsageError('log replay needs a machine to fold the log with: the KV (the default) or --machine PATH')
  if (values.key !== undefined && values.machine !== undefined) throw new UsageError('--key reads the KV state; with --machine the whole state is shown')
  const machine = (await machineFor(values.machine)) as AnyMachine
  const store = await openExistingDiskLog(directory)
  try {
    // By default, as far as the directory knows entries are committed.
    const target = requireInteger('to', values.to, Math.max(store.hardState.commitIndex, store.snapshotMeta?.lastIncludedIndex ?? 0), 0)
    const folded = await replayLog(store, machine, { to: target })
    if (values.machine !== undefined) {
      const state = toJson(folded.state)
      say(
        values.json
          ? JSON.stringify({ index: target, machine: machine.name, state })
          : `${machine.name} state at index ${target}:\n${JSON.stringify(state, null, 2)}`,
      )
      return
    }
    const state = folded.state as KvState
    if (values.key !== undefined) {
      const value = state.get(values.key)
      if (values.json)
        say(JSON.stringify({ index: target, key: values.key, value: toJson(value) ?? null, expiresAtMs: state.deadlines.get(values.key) ?? null }))
      else say(value === undefined ? `(no key ${JSON.stringify(values.key)} at index ${target})` : typeof value === 'string' ? value : showValue(value))
      return
    }
    if (values.json) {
      const expires = Object.fromEntries(state.deadlines)
      say(JSON.stringify({ index: target, keys: state.size, logTimeMs: state.clockMs, state: toJson(state.entries), expires }))
      return
    }
    say(`state at index ${target}: ${state.size} keys, ${folded.sessionCount} client sessions, log time ${new Date(state.clockMs).toISOString()}`)
    for (const key of [...state.entries.keys()].sort()) {
      const deadline = state.deadlines.get(key)
      const expiry = deadline === undefined ? '' : deadline <= state.clockMs ? ' (expired)' : ` (expires ${new Date(deadline).toISOString()})`
      say(`${preview(key)} = ${showValue(state.entries.get(key) as KvValue)}${expiry}`)
    }
  } finally {
    await store.close()
  }
}
