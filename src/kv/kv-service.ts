// The Raft-replicated KV server (Lab 4): the KV machine served by the generic machine service.
// Writes go through the log with the client's session (exactly once); reads are linearizable
// ReadIndex reads, so a Get never returns stale data from a minority; a value larger than the
// service accepts is refused before it reaches the log.

import type { Transport } from '../rpc/transport.js'
import { serveMachine } from '../statemachine/machine-service.js'
import type { ReplicatedStateMachine } from '../statemachine/runtime.js'
import type { KvCommand, KvResult, KvState } from './kv.js'

export type KvReplica = ReplicatedStateMachine<KvState, KvCommand, KvResult>

/** The refusal of a value over maxValueBytes (KvClerk throws KvValueTooLargeError for it). */
export const TOO_LARGE = 'ErrTooLarge'

export interface KvServiceOptions {
  /** Largest value accepted in a Put or Append; larger ones are refused. Default 1 MiB. */
  maxValueBytes?: number
}

export class KvService {
  private readonly maxValueBytes: number

  constructor(
    private readonly replica: KvReplica,
    options: KvServiceOptions = {},
  ) {
    this.maxValueBytes = options.maxValueBytes ?? 1024 * 1024
  }

  register(transport: Transport): void {
    serveMachine(this.replica, transport, { refuse: (command) => (command.value.length > this.maxValueBytes ? TOO_LARGE : null) })
  }
}
