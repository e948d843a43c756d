// `lograft log inspect` and `lograft log replay`: look inside a node's data directory (the node
// must be stopped: LevelDB allows one process at a time). Replay runs the same fold as the live
// node, so "what did the state look like at index N?" has the answer the node would have given.

import { openDiskLog } from '../log/backends.js'
import type { LogStore } from '../log/log-store.js'
import type { LogEntry } from '../log/types.js'
import type { AppliedMessage } from '../raft/node.js'
import { EntryType } from '../raft/types.js'
import { envelopeCodec } from '../statemachine/envelope.js'
import { type Folded, foldMessage, initialFold } from '../statemachine/fold.js'
import { type KvCommand, type KvResult, type KvState, kvCommandCodec, kvMachine } from '../kv/kv.js'
import { DEFAULT_SESSION_LIMITS } from '../statemachine/sessions.js'
import { UsageError, parseFlags, requireInteger } from './usage.js'
import { LOG_USAGE } from './usage-text.js'

async function openForReading(directory: string): Promise<LogStore> {
  try {
    return await openDiskLog(directory)
  } catch (error) {
    const code = (error as { code?: string; cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code
    if (code === 'LEVEL_LOCKED') throw new Error(`data directory ${directory} is in use; stop its node first`)
    throw error
  }
}

interface DecodedEntry {
  index: number
  term: number
  type: 'command' | 'noop' | 'unknown'
  clientId?: number
  sequence?: number
  timeMs?: number
  command?: KvCommand
}

function decodeEntry(entry: LogEntry): DecodedEntry {
  if (entry.type === EntryType.Noop) return { index: entry.index, term: entry.term, type: 'noop' }
  if (entry.type !== EntryType.Command) return { index: entry.index, term: entry.term, type: 'unknown' }
  const envelope = envelopeCodec.decode(entry.data)
  return {
    index: entry.index,
    term: entry.term,
    type: 'command',
    clientId: envelope.clientId,
    sequence: envelope.sequence,
    timeMs: envelope.timeMs,
    command: kvCommandCodec.decode(envelope.command),
  }
}

function preview(text: string, maxChars = 40): string {
  const shown = JSON.stringify(text.length > maxChars ? `${text.slice(0, maxChars)}…` : text)
  return text.length > maxChars ? `${shown} (${text.length} bytes)` : shown
}

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

export async function inspectCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false } },
  })
  const directory = positionals[0]
  if (!directory || positionals.length > 1) throw new UsageError(`log inspect needs one data directory\n${LOG_USAGE}`)
  const store = await openForReading(directory)
  try {
    const from = requireInteger('from', values.from, store.firstIndex, 1)
    const to = Math.min(requireInteger('to', values.to, store.lastIndex, 0), store.lastIndex)
    const snapshot = store.snapshotMeta
    const sizes = store.sizes()
    if (values.json) {
      say(JSON.stringify({ identity: store.identity, hardState: store.hardState, snapshot: snapshot && { ...snapshot, appMeta: undefined }, firstIndex: store.firstIndex, lastIndex: store.lastIndex, sizes }))
    } else {
      const hard = store.hardState
      const identity = store.identity
      say(`data directory  ${directory}`)
      say(identity ? `identity        node ${identity.nodeId} of cluster ${identity.clusterId}, incarnation ${identity.incarnation}` : 'identity        (none recorded)')
      if (identity?.lostState) say(`LOST STATE      ${identity.lostState}`)
      say(`hard state      term ${hard.term}, voted for ${hard.votedFor ?? '(none)'}, commit ${hard.commitIndex}`)
      say(snapshot ? `snapshot        through index ${snapshot.lastIncludedIndex} (term ${snapshot.lastIncludedTerm}), ${snapshot.sizeBytes} bytes in ${snapshot.chunkCount} chunks` : 'snapshot        none')
      say(`log             indexes ${store.firstIndex}..${store.lastIndex} (${Math.max(0, store.lastIndex - store.firstIndex + 1)} entries)`)
      say(`sizes           raft state ${sizes.raftStateBytes} bytes, snapshot ${sizes.snapshotBytes} bytes`)
      say('')
      say('index    term  kind     client            seq  op      key / value')
    }
    if (from <= to) {
      for (const entry of await store.readEntries(from, to)) {
        const decoded = decodeEntry(entry)
        if (values.json) {
          say(JSON.stringify(decoded))
        } else if (decoded.command) {
          const { op, key, value } = decoded.command
          say(
            `${String(decoded.index).padEnd(8)} ${String(decoded.term).padStart(5)}  command  ${String(decoded.clientId).padEnd(17)} ${String(decoded.sequence).padStart(4)}  ${op.padEnd(7)} ${preview(key)}${op === 'put' || op === 'append' ? ` = ${preview(value)}` : ''}`,
          )
        } else {
          say(`${String(decoded.index).padEnd(8)} ${String(decoded.term).padStart(5)}  ${decoded.type}`)
        }
      }
    }
  } finally {
    await store.close()
  }
}

export async function replayCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { to: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean', default: false } },
  })
  const directory = positionals[0]
  if (!directory || positionals.length > 1 || values.to === undefined) throw new UsageError(`log replay needs a data directory and --to N\n${LOG_USAGE}`)
  const target = requireInteger('to', values.to, 0, 0)
  const store = await openForReading(directory)
  try {
    const machine = kvMachine({ appendReturnsOldValue: false })
    let folded: Folded<KvState, KvResult> = initialFold(machine, DEFAULT_SESSION_LIMITS)
    const snapshot = store.snapshotMeta
    if (snapshot && target < snapshot.lastIncludedIndex) {
      throw new Error(`index ${target} is inside the snapshot, which covers everything through ${snapshot.lastIncludedIndex}; the log before it was compacted`)
    }
    if (target > store.lastIndex) throw new Error(`index ${target} is past the end of the log (last index ${store.lastIndex})`)
    if (snapshot) {
      const message: AppliedMessage = { kind: 'snapshot', index: snapshot.lastIncludedIndex, term: snapshot.lastIncludedTerm, data: await store.readSnapshot(), appMeta: snapshot.appMeta }
      folded = foldMessage(machine, folded, message)
    }
    const from = (snapshot?.lastIncludedIndex ?? 0) + 1
    if (from <= target) {
      for (const entry of await store.readEntries(from, target)) {
        const message: AppliedMessage =
          entry.type === EntryType.Noop
            ? { kind: 'noop', index: entry.index, term: entry.term }
            : { kind: 'command', index: entry.index, term: entry.term, data: entry.data }
        folded = foldMessage(machine, folded, message)
      }
    }
    const state = folded.state
    if (values.key !== undefined) {
      const value = state.get(values.key)
      if (values.json) say(JSON.stringify({ index: target, key: values.key, value: value ?? null }))
      else say(value === undefined ? `(no key ${JSON.stringify(values.key)} at index ${target})` : value)
      return
    }
    if (values.json) {
      say(JSON.stringify({ index: target, keys: state.size, state: Object.fromEntries(state) }))
      return
    }
    say(`state at index ${target}: ${state.size} keys, ${folded.sessions.size} client sessions`)
    for (const key of [...state.keys()].sort()) say(`${preview(key)} = ${preview(state.get(key) as string, 60)}`)
  } finally {
    await store.close()
  }
}

