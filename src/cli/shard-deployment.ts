// A local sharded-KV deployment of real processes: starts a layout's controller and group servers
// under one ProcessSupervisor, administers it through a controller clerk over TCP, and reads each
// group's progress (configuration, shards serving, pulling, offering) from its servers' INFO.

import { TcpTransport } from '../rpc/tcp-transport.js'
import { DEFAULT_SHARD_COUNT, type ShardConfig } from '../shard/config.js'
import { sleep, systemClock } from '../base/clock.js'
import { quietLogger } from '../base/logger.js'
import { ControllerClerk } from '../shard/controller-clerk.js'
import { infoFields } from './resp-probe.js'
import type { ShardDeploymentLayout, ShardGroupLayout, ShardProcess } from './shard-layout.js'
import { respPortOf } from './shard-layout.js'
import { type ExitListener, ProcessSupervisor } from './supervisor.js'

const POLL_INTERVAL_MS = 50

/** What one group's most advanced running server reports. */
export interface GroupStatus {
  gid: number
  configNum: number
  appliedIndex: number
  serving: number[]
  pulling: number[]
  offering: number[]
  gcPending: number[]
}

/** Reported by waitForConfig as a migration progresses. */
export type MigrationEvent =
  { kind: 'served'; gid: number; shards: number[]; elapsedMs: number } | { kind: 'released'; gid: number; shards: number[]; elapsedMs: number }

export class ShardMigrationTimeoutError extends Error {
  readonly code = 'ERR_SHARD_MIGRATION_TIMEOUT'
}

function shardList(text: string | undefined): number[] {
  return text ? text.split(',').map(Number) : []
}

export class LocalShardDeployment {
  readonly supervisor: ProcessSupervisor
  private constructor(
    readonly layout: ShardDeploymentLayout,
    readonly admin: ControllerClerk,
    private readonly adminTransport: TcpTransport,
    onExit: ExitListener | undefined,
  ) {
    this.supervisor = new ProcessSupervisor(onExit)
  }

  /** Starts every process of `layout` and resolves when each has reported ready. */
  static async start(layout: ShardDeploymentLayout, onExit?: ExitListener): Promise<LocalShardDeployment> {
    const transport = await TcpTransport.start({ self: `lograft-shard-admin-${process.pid}`, logger: quietLogger, backoffMaxMs: 500 })
    const admin = ControllerClerk.connect({ transport, servers: layout.controllerAddresses, shardCount: DEFAULT_SHARD_COUNT, rpcTimeoutMs: 1000 })
    const deployment = new LocalShardDeployment(layout, admin, transport, onExit)
    try {
      await Promise.all([...layout.controllers, ...layout.groups.flatMap((group) => group.servers)].map((spec) => deployment.supervisor.start(spec)))
    } catch (error) {
      await deployment.stop()
      throw error
    }
    return deployment
  }

  group(gid: number): ShardGroupLayout {
    const group = this.layout.groups.find((candidate) => candidate.gid === gid)
    if (!group) throw new Error(`no group ${gid} in this deployment`)
    return group
  }

  join(gids: readonly number[]): Promise<ShardConfig> {
    return this.admin.join(Object.fromEntries(gids.map((gid) => [gid, [...this.group(gid).addresses]])))
  }

  /** Group servers that are running, optionally of one group. */
  runningServers(gid?: number): ShardProcess[] {
    return this.layout.groups
      .flatMap((group) => (gid === undefined || group.gid === gid ? group.servers : []))
      .filter((server) => this.supervisor.isRunning(server.id))
  }

  restart(server: ShardProcess): Promise<void> {
    return this.supervisor.start(server)
  }

  /** The group's status as its most advanced running server reports it; null if none answers. */
  async groupStatus(gid: number): Promise<GroupStatus | null> {
    const reports = await Promise.all(this.runningServers(gid).map((server) => infoFields(respPortOf(server))))
    let best: GroupStatus | null = null
    for (const fields of reports) {
      if (!fields) continue
      const status: GroupStatus = {
        gid,
        configNum: Number(fields.get('config_num')),
        appliedIndex: Number(fields.get('applied_index')),
        serving: shardList(fields.get('serving')),
        pulling: shardList(fields.get('pulling')),
        offering: shardList(fields.get('offering')),
        gcPending: shardList(fields.get('gc_pending')),
      }
      if (!best || status.appliedIndex > best.appliedIndex) best = status
    }
    return best
  }

  /**
   * Waits until every group has reached `config` and finished moving shards for it: each shard
   * served by its owner, each old copy deleted. Reports each shard as its new owner starts serving
   * it and each group as it lets go of what it gave away.
   */
  async waitForConfig(previous: ShardConfig, config: ShardConfig, timeoutMs: number, onEvent: (event: MigrationEvent) => void = () => {}): Promise<void> {
    const startedMs = performance.now()
    const unserved = new Set(
      config.shards.map((_, shard) => shard).filter((shard) => config.shards[shard] !== previous.shards[shard] && config.shards[shard] !== 0),
    )
    const releasing = new Map<number, number[]>()
    previous.shards.forEach((gid, shard) => {
      if (gid !== 0 && config.shards[shard] !== gid) releasing.set(gid, [...(releasing.get(gid) ?? []), shard])
    })
    for (;;) {
      const statuses = await Promise.all(this.layout.groups.map((group) => this.groupStatus(group.gid)))
      const elapsedMs = performance.now() - startedMs
      const reached = statuses.filter((status): status is GroupStatus => status !== null && status.configNum >= config.num)
      const settled =
        reached.length === statuses.length &&
        reached.every((status) => status.configNum > config.num || status.pulling.length + status.offering.length + status.gcPending.length === 0)
      for (const status of reached) {
        const served = [...unserved].filter((shard) => config.shards[shard] === status.gid && (status.configNum > config.num || status.serving.includes(shard)))
        for (const shard of served) unserved.delete(shard)
        if (served.length > 0) onEvent({ kind: 'served', gid: status.gid, shards: served, elapsedMs })
      }
      // A group deletes what it gave away only once the new owner has it: reported after the serving.
      for (const status of reached) {
        const given = releasing.get(status.gid)
        if (given && (status.configNum > config.num || status.offering.length === 0)) {
          releasing.delete(status.gid)
          onEvent({ kind: 'released', gid: status.gid, shards: given, elapsedMs })
        }
      }
      if (settled && unserved.size === 0) return
      if (elapsedMs > timeoutMs) {
        throw new ShardMigrationTimeoutError(
          `configuration ${config.num} not settled after ${timeoutMs} ms: ${statuses.map((status, i) => (status ? `group ${status.gid} at config ${status.configNum} pulling [${status.pulling}] offering [${status.offering}] gc [${status.gcPending}]` : `group ${this.layout.groups[i]?.gid} not answering`)).join('; ')}`,
        )
      }
      await sleep(systemClock, POLL_INTERVAL_MS)
    }
  }

  /** Waits until every group has reached the latest configuration and finished moving shards for it. */
  async settle(timeoutMs: number): Promise<ShardConfig> {
    const latest = await this.admin.query(-1)
    await this.waitForConfig(await this.admin.query(Math.max(0, latest.num - 1)), latest, timeoutMs)
    return latest
  }

  async stop(): Promise<void> {
    await this.supervisor.stopAll()
    await this.adminTransport.close()
  }
}
