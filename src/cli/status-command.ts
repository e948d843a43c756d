// `lograft status --via HOST:PORT [--json] [--watch]`: the cluster as a table. The members come
// from the configuration any member knows (Membership list); then every member is asked for its
// own account (Status.Get): role, term, commit and applied index, snapshot index, readiness, and
// from the leader each follower's lag and last contact. A member that does not answer is shown so.

import { silentLogger } from '../base/logger.js'
import { configurationCodec } from '../raft/configuration-codec.js'
import { allMembers, isVoter } from '../raft/membership.js'
import { membershipMethod, membershipRequest } from '../raft/membership-service.js'
import { type StatusReply, statusMethod } from '../node/status-service.js'
import { invoke } from '../rpc/service.js'
import { TcpTransport } from '../rpc/tcp-transport.js'
import type { Transport } from '../rpc/transport.js'
import { formatTable } from './text-table.js'
import { TLS_FLAG_OPTIONS, tlsFromFlags } from './tls-flags.js'
import { UsageError, checkAddress, parseFlags } from './usage.js'
import { STATUS_USAGE } from './usage-text.js'

const CALL_TIMEOUT_MS = 2000
const WATCH_INTERVAL_MS = 1000

export class StatusCommandError extends Error {
  readonly code = 'ERR_STATUS_COMMAND'
}

/** One member as `lograft status` shows it. */
interface MemberStatus {
  id: string
  address: string
  voter: boolean
  /** Null when the member did not answer. */
  status: StatusReply | null
  /** From the leader's view: entries it lacks, and ms since it answered (null if unknown). */
  lag: number | null
  lastContactMs: number | null
}

interface ClusterStatus {
  clusterId: string
  leader: string | null
  members: MemberStatus[]
}

export async function statusCommand(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      via: { type: 'string' },
      json: { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      ...TLS_FLAG_OPTIONS,
    },
  })
  if (!values.via) throw new UsageError(`status needs --via HOST:PORT (any member's address)\n${STATUS_USAGE}`)
  const via = checkAddress('via', values.via)
  const tls = await tlsFromFlags(values)
  const transport = await TcpTransport.start({ self: `lograft-status-${process.pid}`, logger: silentLogger, backoffMaxMs: 500, ...(tls ? { tls } : {}) })
  try {
    if (!values.watch) {
      const cluster = await clusterStatus(transport, via)
      process.stdout.write(values.json ? `${JSON.stringify(cluster)}\n` : formatStatus(cluster))
      return
    }
    await watch(transport, via, values.json)
  } finally {
    await transport.close()
  }
}

/** Redraws every second until interrupted: in place on a terminal, one after another otherwise. */
async function watch(transport: Transport, via: string, json: boolean): Promise<void> {
  let stopped = false
  const stop = (): void => void (stopped = true)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  while (!stopped) {
    let text: string
    try {
      const cluster = await clusterStatus(transport, via)
      text = json ? `${JSON.stringify(cluster)}\n` : formatStatus(cluster)
    } catch (error) {
      text = `${(error as Error).message}\n`
    }
    const clear = process.stdout.isTTY && !json ? '\x1b[H\x1b[2J' : ''
    process.stdout.write(`${clear}${text}${clear === '' && !json ? '\n' : ''}`)
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS))
  }
}

async function clusterStatus(transport: Transport, via: string): Promise<ClusterStatus> {
  const list = await invoke(transport, via, membershipMethod, membershipRequest({ action: 'list' }), { timeoutMs: CALL_TIMEOUT_MS }).catch((error: unknown) => {
    throw new StatusCommandError(`cannot reach ${via}: ${(error as Error).message}`)
  })
  const configuration = configurationCodec.decode(list.configuration)
  const members = allMembers(configuration)
  const statuses = await Promise.all(
    members.map((member) => invoke(transport, member.address, statusMethod, {}, { timeoutMs: CALL_TIMEOUT_MS }).catch(() => null)),
  )
  const leaderStatus = statuses.find((status) => status?.role === 'leader') ?? null
  const progress = new Map((leaderStatus?.followers ?? []).map((follower) => [follower.id, follower]))
  return {
    clusterId: list.clusterId,
    leader: leaderStatus?.id ?? (list.leaderId || null),
    members: members.map((member, i) => {
      const status = statuses[i] ?? null
      const follower = progress.get(member.id)
      const isLeader = leaderStatus !== null && member.id === leaderStatus.id
      return {
        id: member.id,
        address: member.address,
        voter: isVoter(configuration, member.id),
        status,
        lag: isLeader ? 0 : (follower?.lag ?? null),
        lastContactMs: follower && follower.sinceLastContactMs >= 0 ? Math.round(follower.sinceLastContactMs) : null,
      }
    }),
  }
}

function formatStatus(cluster: ClusterStatus): string {
  const header = `cluster ${cluster.clusterId}, leader ${cluster.leader ?? 'unknown'}`
  const rows = [
    ['id', 'address', 'role', 'term', 'commit', 'applied', 'snapshot', 'lag', 'last contact', 'health'],
    ...cluster.members.map((member) => {
      const status = member.status
      if (!status) return [member.id, member.address, member.voter ? 'voter' : 'learner', '-', '-', '-', '-', '-', '-', 'unreachable']
      return [
        member.id,
        member.address,
        member.voter ? status.role : `learner (${status.role})`,
        String(status.term),
        String(status.commitIndex),
        String(status.appliedIndex),
        String(status.snapshotIndex),
        member.lag === null ? '-' : String(member.lag),
        member.lastContactMs === null ? '-' : `${member.lastContactMs} ms`,
        status.ready ? 'ready' : `not ready: ${status.reasons.join('; ')}`,
      ]
    }),
  ]
  return `${[header, ...formatTable(rows)].join('\n')}\n`
}
