// CPU time of each conversion a SET goes through, in one process with no I/O: the RESP arguments
// made a KV command, encoded, wrapped in the session envelope and sealed as a log record (on the
// leader); an AppendEntries carrying it encoded and decoded (once per follower); and the fold that
// applies it (on every member). bench:kv's CPU ms/op column is the whole cluster's CPU per SET;
// this table says how much of it these conversions are, so the rest is I/O, the kernel's TCP,
// wake-ups and the event loop.
//
// Run with `npm run bench:set-path`; ROUNDS (default 5) and ENTRIES (default 200,000) override.

import { kvCommandCodec, kvMachine } from '../src/kv/kv.js'
import type { BatchOp } from '../src/log/group-commit.js'
import { encodeEntryPuts } from '../src/log/records.js'
import type { AppliedMessage } from '../src/raft/node.js'
import { appendEntries } from '../src/raft/rpc-methods.js'
import { envelopeCodec } from '../src/statemachine/envelope.js'
import { foldMessage, initialFold } from '../src/statemachine/fold.js'
import { DEFAULT_SESSION_LIMITS } from '../src/statemachine/sessions.js'
import { printTable } from './table.js'

const ENTRIES = Number(process.env.ENTRIES ?? 200_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const VALUE = Buffer.alloc(100, 0x5a)
/** Entries per AppendEntries, about what a leader under 64 writers sends. */
const ENTRIES_PER_APPEND = 10
const CLIENTS = 64

/** Microseconds of this process's CPU per entry for `run` over ENTRIES entries. */
function cpuMicrosPerEntry(run: () => void): number {
  const started = process.cpuUsage()
  run()
  const used = process.cpuUsage(started)
  return (used.user + used.system) / ENTRIES
}

/** SET number `i`, from its RESP argument buffers to its log entry's data: client i % CLIENTS's next request. */
function setEntryData(i: number): Uint8Array {
  const key = Buffer.from(`bench:${i % CLIENTS}:${i}`)
  const command = { op: 'put' as const, key: key.toString('latin1'), value: VALUE.toString('latin1') }
  return envelopeCodec.encode({
    clientId: 1 + (i % CLIENTS),
    sequence: 1 + Math.floor(i / CLIENTS),
    timeMs: 1_700_000_000_000 + i,
    command: kvCommandCodec.encode(command),
  })
}

/** The leader's conversions: RESP argument buffers to the bytes of a log record. */
function encodeOnLeader(): void {
  for (let i = 0; i < ENTRIES; i++) {
    const ops: BatchOp[] = []
    encodeEntryPuts([{ index: i + 1, term: 1, type: 0, data: setEntryData(i) }], ops)
  }
}

function committedSets(): AppliedMessage[] {
  return Array.from({ length: ENTRIES }, (_, i) => ({ kind: 'command', index: i + 1, term: 1, data: setEntryData(i) }))
}

const messages = committedSets()
const wireEntries = messages.slice(0, ENTRIES_PER_APPEND).map((message) => ({ term: 1, type: 0, data: (message as { data: Uint8Array }).data }))

/** One follower's AppendEntries: the leader encodes it, the follower decodes it. */
function replicate(): void {
  for (let i = 0; i < ENTRIES / ENTRIES_PER_APPEND; i++) {
    const request = { term: 1, leaderId: '1', prevLogIndex: i, prevLogTerm: 1, entries: wireEntries, leaderCommit: i, readRound: 0, lostState: false }
    appendEntries.request.decode(appendEntries.request.encode(request))
  }
}

/** One member's fold of the committed SETs (decode the envelope and the command, apply, record the session). */
function fold(): void {
  const machine = kvMachine({ appendReturnsOldValue: false })
  const folded = initialFold(machine, DEFAULT_SESSION_LIMITS)
  for (const message of messages) foldMessage(machine, folded, message)
}

const stages: Array<{ name: string; perSet: number; run: () => void }> = [
  { name: 'leader: RESP args -> command -> envelope -> log record', perSet: 1, run: encodeOnLeader },
  { name: 'AppendEntries encode + decode (per follower)', perSet: 2, run: replicate },
  { name: 'fold: decode envelope and command, apply (per member)', perSet: 3, run: fold },
]
const medians = stages.map((stage) => {
  const samples = Array.from({ length: ROUNDS }, () => cpuMicrosPerEntry(stage.run)).sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)] as number
})
console.log(`${ENTRIES} SETs of ${VALUE.length}-byte values, median of ${ROUNDS} rounds; a 3-member cluster does each stage the times shown`)
printTable(
  ['stage', 'us per SET', 'times per SET', 'us per SET in the cluster'],
  stages.map((stage, at) => [stage.name, (medians[at] as number).toFixed(2), String(stage.perSet), ((medians[at] as number) * stage.perSet).toFixed(2)]),
)
const total = stages.reduce((sum, stage, at) => sum + (medians[at] as number) * stage.perSet, 0)
console.log(`all conversions: ${total.toFixed(1)} us of CPU per SET across the cluster (compare bench:kv's CPU ms/op)`)
