// Status.Get (proto/status.proto) on a node's transport: the node's Raft status, readiness and, on
// a leader, its followers' progress (sampled as each request is served), for `lograft status` and other tools.

import type { ReadinessTracker } from '../metrics/readiness.js'
import type { RaftNode } from '../raft/node.js'
import { protoCodec } from '../rpc/proto.js'
import { handler, rpcMethod } from '../rpc/service.js'
import type { Transport } from '../rpc/transport.js'

export interface FollowerStatus {
  id: string
  voter: boolean
  matchIndex: number
  lag: number
  state: string
  /** -1 when the follower has not answered since this leader took over. */
  sinceLastContactMs: number
  snapshotSending: boolean
}

export interface StatusReply {
  id: string
  clusterId: string
  role: string
  term: number
  leaderId: string
  commitIndex: number
  appliedIndex: number
  lastIndex: number
  snapshotIndex: number
  ready: boolean
  reasons: string[]
  followers: FollowerStatus[]
  raftStateBytes: number
  snapshotBytes: number
}

export const statusMethod = rpcMethod(
  'Status',
  'Get',
  protoCodec<Record<string, never>>('status.proto', 'lograft.status.StatusRequest'),
  protoCodec<StatusReply>('status.proto', 'lograft.status.StatusReply'),
)

/** Serves Status.Get for `raft` on `transport`. */
export function serveStatus(transport: Transport, raft: RaftNode, readiness: ReadinessTracker, clusterId: string): void {
  transport.register('Status', {
    Get: handler(statusMethod, () => {
      const status = raft.status()
      const verdict = readiness.check()
      const sizes = raft.sizes()
      return {
        id: raft.id,
        clusterId,
        role: status.role,
        term: status.term,
        leaderId: status.leaderId ?? '',
        commitIndex: status.commitIndex,
        appliedIndex: status.appliedIndex,
        lastIndex: status.lastIndex,
        snapshotIndex: status.snapshotIndex,
        ready: verdict.ready,
        reasons: verdict.reasons,
        followers: raft.replicationProgress().map((follower) => ({
          id: follower.id,
          voter: follower.voter,
          matchIndex: follower.matchIndex,
          lag: follower.lag,
          state: follower.state,
          sinceLastContactMs: follower.sinceLastContactMs ?? -1,
          snapshotSending: follower.snapshotSending,
        })),
        raftStateBytes: sizes.raftStateBytes,
        snapshotBytes: sizes.snapshotBytes,
      }
    }),
  })
}
