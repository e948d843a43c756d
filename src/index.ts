/**
 * lograft: replicated state machines for Node.js.
 *
 * Write your state machine as a reducer ({@link StateMachine}), replicate it with Raft over a
 * durable LevelDB log ({@link MachineNode}, or {@link RaftNode} + {@link ReplicatedStateMachine}
 * to wire it yourself), serve it ({@link serveMachine}) and call it exactly once from anywhere
 * ({@link MachineClerk}). The built-in machines (a key/value store, a shard controller and sharded
 * KV groups) and MapReduce are built from the same parts.
 *
 * Simulation (`lograft/sim`) and test harnesses for your own machine (`lograft/testing`) have
 * entry points of their own.
 *
 * @module lograft
 */

// Shared vocabulary: time, randomness, logging, log entries.
export { type Clock, type TimerHandle, systemClock, sleep } from './base/clock.js'
export { Rng } from './base/rng.js'
export { type Logger, type LogFields, type LoggedEvent, stderrLogger, silentLogger, MemoryLogger } from './base/logger.js'
export type { LogEntry, HardState } from './base/entries.js'

// The durable log (LevelDB on disk, memory-level in simulation).
export { LogStore, SnapshotWriter, newClusterId, type LevelDatabase, type LogStoreOptions, type SnapshotPoint, type StoreSizes } from './log/log-store.js'
export type { GroupCommitStats } from './log/group-commit.js'
export { openDiskLog, openExistingDiskLog, openMemoryLog } from './log/backends.js'
export type { SnapshotMeta, NodeIdentity, StoredIdentity, IdentityClaim } from './log/types.js'
export {
  LogStoreError,
  CorruptionError,
  CompactedError,
  OutOfRangeError,
  NonContiguousAppendError,
  StaleSnapshotError,
  IdentityMismatchError,
  ClusterIdRequiredError,
  LogStoreFailedError,
  LogStoreClosedError,
  NoDatabaseError,
  DatabaseOpenError,
} from './log/errors.js'

// Transports: TCP (plain or mutual TLS) for real clusters, and the RPC helpers to define services on them.
export { RpcError, isRpcError, type RpcErrorCode } from './rpc/errors.js'
export type { Transport, Handler, CallContext, CallOptions, ServiceAccess } from './rpc/transport.js'
export { invoke, handler, rpcMethod, type RpcMethod } from './rpc/service.js'
export { protoFileCodec, type MessageCodec } from './rpc/proto.js'
export { TcpTransport, DEFAULT_MAX_FRAME_BYTES, type TcpTransportOptions } from './rpc/tcp-transport.js'
export { parseAddress } from './rpc/address.js'
export type { ClusterIdentity, IncarnationCheck } from './rpc/handshake.js'
export { TlsConfigError, loadTlsFiles, type TlsConfig, type TlsFiles } from './rpc/tls.js'
export type { PeerAddress } from './rpc/address.js'

// Raft.
export { RaftNode, type RaftNodeOptions, type AppliedMessage, type MembershipState } from './raft/node.js'
export type { Configuration, MembershipChange, Member } from './raft/membership.js'
export { EntryType, type ProposeResult, type RaftStatus, type Role } from './raft/types.js'
export type { FollowerProgress, LeaderChange, RaftTiming, RpcFailure } from './raft/events.js'
export type { ProgressState } from './raft/progress.js'
export { MAX_INDEX, MAX_TERM, MAX_TERM_JUMP } from './raft/limits.js'
export { RaftError, NotLeaderError, NodeStoppedError, RaftTimeoutError, SnapshotAheadError, LostStateError, MembershipChangeError } from './raft/errors.js'

// Your state machine: the reducer, its runtime over Raft, a service and an exactly-once clerk, replay.
export type { ApplyContext, Codec, StateEncoding, StateMachine } from './statemachine/types.js'
export { jsonCodec } from './statemachine/codecs.js'
export {
  ReplicatedStateMachine,
  ProposalLostError,
  type ClientSession,
  type ReplicatedStateMachineOptions,
  type ApplyTiming,
  type ProposalOutcome,
} from './statemachine/runtime.js'
export { CheckpointFormatError, type Outcome, type OutcomeKind } from './statemachine/fold.js'
export { DEFAULT_SESSION_LIMITS, type SessionLimits } from './statemachine/sessions.js'
export { serveMachine, type MachineServiceOptions, type LocalMachine, type MachineCall, type MachineAnswer } from './statemachine/machine-service.js'
export { MachineClerk, ClerkDeadlineError, CommandRefusedError, type MachineClerkOptions } from './statemachine/machine-clerk.js'
export { loadMachine, MachineLoadError } from './statemachine/machine-loader.js'
export { replayLog, ReplayRangeError, type ReplayOptions, type Replayed } from './statemachine/replay.js'

// Complete replicas: one process's node of a cluster.
export type { ReplicaOptions } from './node/replica-options.js'
export { MachineNode, type MachineNodeOptions } from './node/machine-node.js'
export { KvNode, type KvNodeOptions } from './node/kv-node.js'
export { parsePeers, formatPeers, PeerListError, type Peer } from './node/peers.js'
export { ShardControllerNode, type ShardControllerNodeOptions, type ControllerReplica } from './node/shard-controller-node.js'
export { ShardGroupNode, type ShardGroupNodeOptions } from './node/shard-group-node.js'
export type { TransferReport } from './shard/group-server.js'

// Watching a node: Prometheus collectors built on its event streams, readiness, the HTTP port.
export type { NodeMonitoring } from './node/monitoring.js'
export { registerRaftMetrics } from './metrics/raft-metrics.js'
export { registerMachineMetrics } from './metrics/machine-metrics.js'
export { registerRespMetrics } from './metrics/resp-metrics.js'
export { LATENCY_BUCKETS, type RegisteredMetrics } from './metrics/metric-set.js'
export { ReadinessTracker, type Readiness } from './metrics/readiness.js'
export { startMonitoringEndpoint, type MonitoringSources, type MonitoringEndpoint } from './metrics/http-endpoint.js'
export { pinoLogger } from './node/loggers.js'

// The built-in key/value machine and its clerk.
export {
  kvMachine,
  KvState,
  type KvCommand,
  type KvResult,
  type KvOp,
  type KvMachineOptions,
  type KvExpiry,
  type KvWatch,
  type KvValue,
  type KvHash,
} from './kv/kv.js'
export { ScanIndex } from './kv/scan-index.js'
export { KvService, type KvReplica, type KvServiceOptions } from './kv/kv-service.js'
export { KvClerk, KvDeadlineError, KvValueTooLargeError, type KvClerkOptions } from './kv/kv-clerk.js'

// Sharded KV: the controller's clerk and its configuration.
export { ControllerClerk, type ControllerClerkOptions } from './shard/controller-clerk.js'
export { type ShardConfig, DEFAULT_SHARD_COUNT } from './shard/config.js'
export type { ControllerState, ControllerCommand, ControllerResult } from './shard/controller-machine.js'

// A RESP (Redis protocol) endpoint for a KV backend, and a small client for it.
export { RespServer, type RespServerOptions } from './resp/server.js'
export type { RespCommandEvent } from './resp/connection.js'
export type { RespLimitOptions } from './resp/limits.js'
export type { RespTlsOptions } from './resp/tls-listener.js'
export type { KvBackend, KvInfoSections } from './resp/backend.js'
export { RespClient, type Word } from './resp/client.js'
export type { RespReply } from './resp/reply.js'
export type { RespErrorPrefix } from './resp/errors.js'

// MapReduce: a coordinator, workers, your map and reduce functions.
export { Coordinator, type CoordinatorOptions } from './mapreduce/coordinator.js'
export { runWorker, type WorkerOptions, type WorkerResult, type WorkerExitReason } from './mapreduce/worker.js'
export { runSequential } from './mapreduce/sequential.js'
export { loadApp } from './mapreduce/app-loader.js'
export { MapReduceError, AppRecordError, type MapReduceErrorCode } from './mapreduce/errors.js'
export type { KeyValue, TaskContext, MapContext, MapResult, MapFunction, ReduceFunction, MapReduceApp, Counters, TaskKind } from './mapreduce/types.js'
export type { JobStatus, Phase, PhaseProgress, SkippedRecord, SchedulerTuning, SchedulerEvent } from './mapreduce/scheduler.js'
