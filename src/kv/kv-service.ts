import type { Transport } from '../rpc/transport.js'
import { type LocalMachine, serveMachine } from '../statemachine/machine-service.js'
import type { ReplicatedStateMachine } from '../statemachine/runtime.js'
import type { KvCommand, KvResult, KvState } from './kv.js'
import { commandBytes } from './kv-ops.js'

/** The KV machine running over a Raft node, as {@link KvService} serves it. */
export type KvReplica = ReplicatedStateMachine<KvState, KvCommand, KvResult>

/** The refusal of a value over maxValueBytes (KvClerk throws KvValueTooLargeError for it). */
export const TOO_LARGE = 'ErrTooLarge'

/** Limits of a {@link KvService}. */
export interface KvServiceOptions {
  /**
   * Largest value accepted in a Put or Append (or any value of a multi-key command or transaction,
   * which may carry twice this in all); larger ones are refused. Default 1 MiB.
   */
  maxValueBytes?: number
}

/**
 * The Raft-replicated KV server: the KV machine served by the generic machine service
 * ({@link serveMachine}), for {@link KvClerk}. Writes go through the log with the client's session
 * (exactly once); reads are linearizable ReadIndex reads, so a Get never returns stale data from a
 * minority; a value larger than the service accepts is refused before it reaches the log.
 */
export class KvService {
  private readonly maxValueBytes: number

  constructor(
    private readonly replica: KvReplica,
    options: KvServiceOptions = {},
  ) {
    this.maxValueBytes = options.maxValueBytes ?? 1024 * 1024
  }

  /** Serves `kv.Execute` for this replica on `transport`; returns the service for a clerk in this process (KvClerkOptions.local). */
  register(transport: Transport): LocalMachine<KvCommand, KvResult> {
    return serveMachine(this.replica, transport, {
      refuse: (command) => (largestValueBytes(command) > this.maxValueBytes || commandBytes(command) > 2 * this.maxValueBytes ? TOO_LARGE : null),
    })
  }
}

/** The longest value (or key, field) a command carries, its transaction's commands included. */
function largestValueBytes(command: KvCommand): number {
  let largest = Math.max(command.key.length, command.value.length)
  for (const list of [command.keys, command.values, command.fields]) for (const item of list ?? []) largest = Math.max(largest, item.length)
  for (const inner of command.commands ?? []) largest = Math.max(largest, largestValueBytes(inner))
  return largest
}
