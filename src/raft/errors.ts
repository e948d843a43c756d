/** The base of the errors a RaftNode reports to its callers; `code` (ERR_...) tells them apart. */
export class RaftError extends Error {
  constructor(
    /** Stable, for matching: e.g. ERR_NOT_LEADER, ERR_RAFT_TIMEOUT. */
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}

/** This node is not the leader; `leaderId` is its best guess at who is (null if unknown). */
export class NotLeaderError extends RaftError {
  constructor(
    readonly nodeId: string,
    readonly leaderId: string | null,
  ) {
    super('ERR_NOT_LEADER', `node ${nodeId} is not the leader${leaderId ? `; try ${leaderId}` : ''}`)
  }
}

/** The node was stopped (or failed) while the operation was pending. */
export class NodeStoppedError extends RaftError {
  constructor(nodeId: string) {
    super('ERR_NODE_STOPPED', `raft node ${nodeId} is stopped`)
  }
}

/**
 * A ReadIndex, membership change or leader transfer did not complete within operationTimeoutMs
 * (RaftNodeOptions). A change or transfer may still take effect later.
 */
export class RaftTimeoutError extends RaftError {
  constructor(what: string, timeoutMs: number) {
    super('ERR_RAFT_TIMEOUT', `${what} did not complete within ${timeoutMs}ms`)
  }
}

/** Asked to snapshot entries the state machine has not seen yet. */
export class SnapshotAheadError extends RaftError {
  constructor(index: number, appliedIndex: number) {
    super('ERR_SNAPSHOT_AHEAD', `cannot snapshot through index ${index}: only ${appliedIndex} has been applied`)
  }
}

/**
 * This node's data lost state the cluster relies on (a wiped or truncated directory): it must not
 * run, let alone vote, on it. The remedy is to remove the node from the cluster and add it back
 * with an empty data directory.
 */
export class LostStateError extends RaftError {
  constructor(nodeId: string, what: string) {
    super(
      'ERR_RAFT_LOST_STATE',
      `node ${nodeId} lost state the cluster relies on: ${what}. Remove it from the cluster and add it back with an empty data directory`,
    )
  }
}

/** A membership change that cannot be made: another is in flight, or it makes no sense (the message says which). */
export class MembershipChangeError extends RaftError {
  constructor(message: string) {
    super('ERR_MEMBERSHIP', message)
  }
}
