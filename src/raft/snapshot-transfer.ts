// Moving a snapshot from leader to follower in chunks (§7), so a large snapshot is never one large
// message: the leader streams the stored chunks one InstallSnapshot RPC at a time; the follower
// writes them into a new snapshot generation and installs it when the last one arrives.

import type { LogStore, SnapshotWriter } from '../log/log-store.js'
import type { Transport } from '../rpc/transport.js'
import { invoke } from '../rpc/service.js'
import { installSnapshot } from './rpc-methods.js'
import type { InstallSnapshotRequest } from './types.js'

export interface SnapshotSendOptions {
  store: LogStore
  transport: Transport
  to: string
  /** The snapshot the core asked to send; if the store has moved on, the send is abandoned. */
  index: number
  term: number
  leaderId: string
  /** Checked before each chunk: stop if this node is no longer leader of `term`. */
  stillLeader: () => boolean
  rpcTimeoutMs?: number
}

export interface SnapshotSendOutcome {
  /** The follower's term from its last reply; null if the transfer failed before any reply. */
  replyTerm: number | null
  accepted: boolean
}

/** Streams the current snapshot to one follower; resolves when it is installed or the attempt ends. */
export async function sendSnapshot(options: SnapshotSendOptions): Promise<SnapshotSendOutcome> {
  const meta = options.store.snapshotMeta
  if (!meta || meta.lastIncludedIndex !== options.index) return { replyTerm: null, accepted: false }
  const callOptions = options.rpcTimeoutMs === undefined ? undefined : { timeoutMs: options.rpcTimeoutMs }
  let offset = 0
  let outcome: SnapshotSendOutcome = { replyTerm: null, accepted: false }
  const chunks = meta.sizeBytes === 0 ? emptySnapshot() : options.store.snapshotChunks(meta)
  for await (const chunk of chunks) {
    if (!options.stillLeader()) return { replyTerm: null, accepted: false }
    const request: InstallSnapshotRequest = {
      term: options.term,
      leaderId: options.leaderId,
      lastIncludedIndex: meta.lastIncludedIndex,
      lastIncludedTerm: meta.lastIncludedTerm,
      appMeta: offset === 0 ? meta.appMeta : new Uint8Array(0),
      configuration: offset === 0 ? meta.configuration : new Uint8Array(0),
      offset,
      data: chunk,
      done: offset + chunk.length === meta.sizeBytes,
    }
    const reply = await invoke(options.transport, options.to, installSnapshot, request, callOptions)
    outcome = { replyTerm: reply.term, accepted: reply.accepted }
    if (reply.term > options.term || !reply.accepted) return outcome
    offset += chunk.length
  }
  return outcome
}

async function* emptySnapshot(): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(0)
}

export type ReceiveResult =
  { kind: 'rejected' } | { kind: 'partial' } | { kind: 'complete'; writer: SnapshotWriter; appMeta: Uint8Array; configuration: Uint8Array }

interface Transfer {
  readonly leaderTerm: number
  readonly index: number
  readonly term: number
  readonly appMeta: Uint8Array
  readonly configuration: Uint8Array
  readonly writer: SnapshotWriter
  nextOffset: number
}

/** The follower's side: collects chunks of one transfer at a time. */
export class SnapshotReceiver {
  private transfer: Transfer | null = null

  constructor(private readonly store: LogStore) {}

  /**
   * Takes one chunk. A chunk at offset 0 starts a new transfer (dropping any other); a chunk that
   * does not continue the current transfer is rejected so the leader starts over.
   */
  async receive(request: InstallSnapshotRequest): Promise<ReceiveResult> {
    if (request.offset === 0) {
      await this.abort()
      this.transfer = {
        leaderTerm: request.term,
        index: request.lastIncludedIndex,
        term: request.lastIncludedTerm,
        appMeta: request.appMeta,
        configuration: request.configuration,
        writer: this.store.beginSnapshot(),
        nextOffset: 0,
      }
    }
    const transfer = this.transfer
    if (
      !transfer ||
      transfer.leaderTerm !== request.term ||
      transfer.index !== request.lastIncludedIndex ||
      transfer.term !== request.lastIncludedTerm ||
      transfer.nextOffset !== request.offset
    ) {
      return { kind: 'rejected' }
    }
    transfer.nextOffset += request.data.length
    await transfer.writer.write(request.data)
    if (!request.done) return { kind: 'partial' }
    if (this.transfer !== transfer) return { kind: 'rejected' }
    this.transfer = null
    await transfer.writer.flush()
    return { kind: 'complete', writer: transfer.writer, appMeta: transfer.appMeta, configuration: transfer.configuration }
  }

  async abort(): Promise<void> {
    const transfer = this.transfer
    this.transfer = null
    if (transfer) await transfer.writer.abort()
  }
}
