// A sharded-KV replica group server as a real replica: the group state machine folded over a Raft
// log in classic-level, over TcpTransport, driven by a GroupServer that polls the controller and
// moves shards between groups, plus (optionally) a RESP endpoint that forwards every command to the
// group owning its key. `lograft shard group` is a thin shell over this.
//
// Servers are named by their "host:port" in configurations (TcpTransport calls such a name
// directly), so a group reaches the controller and other groups by the addresses it is told or
// learns from configurations; only its own Raft peers need ids.

import { RespServer } from '../resp/server.js'
import type { KvInfoSections } from '../resp/backend.js'
import { DEFAULT_SHARD_COUNT, type KeyToShard, hashShard } from '../shard/config.js'
import { ControllerClerk } from '../shard/controller-clerk.js'
import { type GroupCommand, type GroupResult, type GroupState, groupMachine } from '../shard/group-machine.js'
import { GroupServer, type GroupReplica, type TransferReport } from '../shard/group-server.js'
import type { ShardStatus } from '../shard/shard-state.js'
import { systemClock } from '../base/clock.js'
import { ReplicatedStateMachine } from '../statemachine/runtime.js'
import { DEFAULT_SESSION_LIMITS } from '../statemachine/sessions.js'
import { stderrLogger } from '../base/logger.js'
import { DEFAULT_MAX_RAFT_STATE_BYTES, type ReplicaOptions } from './replica-options.js'
import { type NodeMonitoring, startNodeMonitoring } from './monitoring.js'
import { registerRespMetrics } from '../metrics/resp-metrics.js'
import { registerShardGroupMetrics } from '../metrics/shard-metrics.js'
import type { Registry } from 'prom-client'
import { type RespEndpoint, type RespSecurityOptions, startRespEndpoint } from './resp-endpoint.js'
import { DEFAULT_MAX_VALUE_BYTES, type RaftHost, maxFrameBytesFor, raftInfo, startRaftHost } from './raft-host.js'
import { ShardForwardingBackend } from './shard-kv-backend.js'
import { EventLoopStalls } from './event-loop-stalls.js'

/** How a deployment maps keys to shards: a hash of the whole key, so keys sharing a prefix spread out. */
export const DEPLOYMENT_KEY_TO_SHARD: KeyToShard = hashShard

/** How {@link ShardGroupNode.start} sets up a group server. */
export interface ShardGroupNodeOptions extends ReplicaOptions, RespSecurityOptions {
  /** The replica group's id in the deployment's configurations; not 0, which means "no group". */
  gid: number
  /** The controller's servers, "host:port" each. */
  controllers: readonly string[]
  /** Default 10; the same for the controller, every group and every clerk. */
  shardCount?: number
  /** "host:port" for the RESP endpoint; omit for none. */
  respAddress?: string
  /** Largest value a RESP client may write. Default 1 MiB (the port's frames grow to fit larger ones). */
  maxValueBytes?: number
  /** A RESP request that cannot complete in this time fails with -TRYAGAIN. Default 5000 ms. */
  requestTimeoutMs?: number
  /** Forwarding clerks at once on the RESP endpoint. Default 1024. */
  maxForwardingClerks?: number
  /** Bytes of keys and values per migration chunk. Default: GroupServer's (256 KiB). */
  maxChunkBytes?: number
  /** Chunks of an incoming shard proposed and not yet applied, while the next is fetched. Default: GroupServer's (1). */
  maxChunksInFlight?: number
  /** Bytes per second of incoming shard data the group's leader pulls. Default: no limit. */
  maxMigrationBytesPerSecond?: number
  /** Per-RPC timeout towards the controller and other groups. Default 1000 ms. */
  rpcTimeoutMs?: number
  /** Hears about each shard this server starts sending to another group (for progress displays and tests). */
  onTransferPlanned?: (report: TransferReport) => void
}

export type ShardGroupReplica = ReplicatedStateMachine<GroupState, GroupCommand, GroupResult>

/** A group's role in its deployment: its directory records `deployment:group-G`, never opened as another group's. */
export function groupRole(gid: number): string {
  return `group-${gid}`
}

/**
 * One server of a sharded-KV replica group: the group's state machine over Raft, which polls the
 * controller for new configurations and moves shards to and from other groups, and optionally a
 * RESP endpoint that forwards each command to the group owning its key. `lograft shard group` is a
 * thin shell over it.
 */
export class ShardGroupNode {
  private constructor(
    readonly gid: number,
    readonly id: string,
    private readonly replica: ShardGroupReplica,
    private readonly host: RaftHost,
    private readonly server: GroupServer,
    private readonly resp: RespServer | null,
    readonly respPort: number | null,
    /** Its metrics registry and monitoring port (options.metricsAddress). */
    readonly monitoring: NodeMonitoring,
    private readonly stalls: EventLoopStalls,
  ) {}

  /**
   * Opens the data directory (joining the group first if it is new and `join` is given), starts
   * serving and polling the controller, and resolves once it serves. Refuses a directory of another
   * deployment, group or role (IdentityMismatchError).
   */
  static async start(options: ShardGroupNodeOptions): Promise<ShardGroupNode> {
    const logger = options.logger ?? stderrLogger
    const shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT
    const rpcTimeoutMs = options.rpcTimeoutMs ?? 1000
    const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
    return startRaftHost({ ...options, role: groupRole(options.gid), maxFrameBytes: maxFrameBytesFor(maxValueBytes), logger }, async (host) => {
      const { raft, store, transport } = host
      // As a KV node's: a group holds shards of data, and a smaller limit snapshots its whole state
      // every few MB a moving shard writes to the log (bench:shard: 4 MiB moved 2.8 MB/s, 32 MiB 4.1).
      const maxRaftStateBytes = options.maxRaftStateBytes ?? DEFAULT_MAX_RAFT_STATE_BYTES
      const replica: ShardGroupReplica = new ReplicatedStateMachine({
        raft,
        machine: groupMachine({ gid: options.gid, shardCount, keyToShard: DEPLOYMENT_KEY_TO_SHARD, sessionLimits: DEFAULT_SESSION_LIMITS }),
        ...(maxRaftStateBytes > 0 ? { maxRaftStateBytes } : {}),
        logger,
      })
      // The group's own controller clerk, so its polls never queue behind clients' queries.
      const controllerClerk = (): ControllerClerk => ControllerClerk.connect({ transport, servers: options.controllers, shardCount, rpcTimeoutMs })
      const server = new GroupServer({
        replica,
        store,
        transport,
        controller: controllerClerk(),
        clock: systemClock,
        wallClockMs: Date.now,
        keyToShard: DEPLOYMENT_KEY_TO_SHARD,
        shardCount,
        sessionLimits: DEFAULT_SESSION_LIMITS,
        logger,
        rpcTimeoutMs,
        ...(options.maxChunkBytes === undefined ? {} : { maxChunkBytes: options.maxChunkBytes }),
        ...(options.maxChunksInFlight === undefined ? {} : { maxChunksInFlight: options.maxChunksInFlight }),
        ...(options.maxMigrationBytesPerSecond === undefined ? {} : { maxMigrationBytesPerSecond: options.maxMigrationBytesPerSecond }),
        ...(options.onTransferPlanned ? { onTransferPlanned: options.onTransferPlanned } : {}),
      })
      let resp: RespEndpoint | null = null
      const stalls = new EventLoopStalls()
      if (options.respAddress) {
        const backend = new ShardForwardingBackend({
          transport,
          controller: controllerClerk(),
          shardCount,
          keyToShard: DEPLOYMENT_KEY_TO_SHARD,
          requestTimeoutMs: options.requestTimeoutMs ?? 5000,
          rpcTimeoutMs,
          retryPauseMs: 25,
          maxClerks: options.maxForwardingClerks ?? 1024,
          info: () => groupInfo(options.gid, options.id, host.clusterId, replica, stalls),
          resetStats: () => stalls.reset(),
        })
        resp = await startRespEndpoint(options.respAddress, options, options.tls, {
          backend,
          logger,
          maxValueBytes,
          info: { lograft_node: options.id, lograft_gid: options.gid },
        })
      }
      const respServer = resp?.server ?? null
      const monitoring = await startNodeMonitoring({
        replica,
        transport,
        clusterId: host.clusterId,
        labels: { node: options.id, gid: String(options.gid) },
        address: options.metricsAddress,
        logger,
        collectors: [
          (registry) => registerShardGroupMetrics(registry, () => replica.state),
          ...(respServer ? [(registry: Registry) => registerRespMetrics(registry, respServer)] : []),
        ],
      })
      stalls.start()
      server.start()
      replica.start()
      return new ShardGroupNode(options.gid, options.id, replica, host, server, resp?.server ?? null, resp?.port ?? null, monitoring, stalls)
    })
  }

  /** Resolves when this server's removal from its group commits. */
  get removed(): Promise<void> {
    return this.host.removed
  }

  /** Resolves if the node stops on a failure (a failed durable write, lost state); see RaftNode.failed. */
  get failed(): Promise<Error> {
    return this.host.raft.failed
  }

  /** This server's "host:port", its name in configurations. */
  get address(): string {
    return this.host.address
  }

  /** Stops serving and closes the store; every acknowledged write is already durable. */
  async stop(): Promise<void> {
    this.host.stopFollowing()
    await this.monitoring.close()
    await this.resp?.close()
    this.server.stop()
    await this.replica.stop()
    await this.host.transport.close()
    await this.host.store.close()
    this.stalls.stop()
  }
}

function shardsIn(replica: GroupReplica, status: ShardStatus): string {
  return [...replica.state.shards]
    .filter(([, held]) => held.status === status)
    .map(([shard]) => shard)
    .sort((a, b) => a - b)
    .join(',')
}

/** INFO of a group server: Raft's sections, which shards it holds at which configuration, and its longest event-loop stall and busy stretch. */
function groupInfo(gid: number, id: string, clusterId: string, replica: GroupReplica, stalls: EventLoopStalls): KvInfoSections {
  const state = replica.state
  const busyMs = stalls.maxBusyMs()
  let keys = 0
  let expires = 0
  for (const held of state.shards.values()) {
    keys += held.data.size
    expires += held.data.deadlines.size
  }
  return {
    ...raftInfo(id, clusterId, replica.raft),
    Shards: {
      gid,
      config_num: state.config.num,
      serving: shardsIn(replica, 'serving'),
      pulling: shardsIn(replica, 'pulling'),
      offering: shardsIn(replica, 'offering'),
      gc_pending: [...state.shards]
        .filter(([, held]) => held.gcPending)
        .map(([shard]) => shard)
        .sort((a, b) => a - b)
        .join(','),
    },
    Keyspace: { db0: `keys=${keys},expires=${expires}` },
    // Since the start or CONFIG RESETSTAT.
    Stats: {
      eventloop_delay_max_ms: stalls.maxMs().toFixed(1),
      ...(busyMs === null ? {} : { eventloop_busy_max_ms: busyMs.toFixed(1) }),
    },
  }
}
