// `lograft member list|add|promote|remove|address --via HOST:PORT`: an operator's view and changes
// of a cluster's membership, through any member's peer address (forwarded to the leader). Prints
// the configuration as a table, or as JSON with --json.

import { configurationCodec } from '../raft/configuration-codec.js'
import { allMembers, isVoter } from '../raft/membership.js'
import { type MembershipReply, membershipMethod, membershipRequest } from '../raft/membership-service.js'
import { invoke } from '../rpc/service.js'
import { TcpTransport } from '../rpc/tcp-transport.js'
import { silentLogger } from '../base/logger.js'
import { TLS_FLAG_OPTIONS, tlsFromFlags } from './tls-flags.js'
import { UsageError, checkAddress, parseFlags } from './usage.js'
import { MEMBER_USAGE } from './usage-text.js'
import { formatTable } from './text-table.js'

/** A change that is not answered in this time is reported as unknown (it may still commit). */
const CALL_TIMEOUT_MS = 15_000

export class MembershipCommandError extends Error {
  readonly code = 'ERR_MEMBERSHIP_COMMAND'
}

export async function memberCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      via: { type: 'string' },
      json: { type: 'boolean', default: false },
      'promote-when-caught-up': { type: 'boolean', default: false },
      ...TLS_FLAG_OPTIONS,
    },
  })
  const [action, id, address] = positionals
  if (!values.via) throw new UsageError(`member needs --via HOST:PORT (any member's peer address)\n${MEMBER_USAGE}`)
  const via = checkAddress('via', values.via)
  const request = requestFor(action, id, address, values['promote-when-caught-up'])
  const tls = await tlsFromFlags(values)
  const transport = await TcpTransport.start({ self: `lograft-member-${process.pid}`, logger: silentLogger, ...(tls ? { tls } : {}) })
  let reply: MembershipReply
  try {
    reply = await invoke(transport, via, membershipMethod, request, { timeoutMs: CALL_TIMEOUT_MS })
  } finally {
    await transport.close()
  }
  if (reply.error !== '') throw new MembershipCommandError(reply.error)
  process.stdout.write(values.json ? `${JSON.stringify(asJson(reply))}\n` : formatReply(reply))
}

function requestFor(action: string | undefined, id: string | undefined, address: string | undefined, promoteWhenCaughtUp: boolean) {
  const need = (what: string, value: string | undefined): string => {
    if (value === undefined || value === '') throw new UsageError(`member ${action ?? ''} needs ${what}\n${MEMBER_USAGE}`)
    return value
  }
  switch (action) {
    case 'list':
      return membershipRequest({ action })
    case 'add':
      return membershipRequest({ action, id: need('an ID', id), address: checkAddress('address', need('an ADDRESS', address)), promoteWhenCaughtUp })
    case 'promote':
    case 'remove':
      return membershipRequest({ action, id: need('an ID', id) })
    case 'address':
      return membershipRequest({ action, id: need('an ID', id), address: checkAddress('address', need('an ADDRESS', address)) })
    default:
      throw new UsageError(`unknown member command "${action ?? ''}"\n${MEMBER_USAGE}`)
  }
}

interface MemberRow {
  id: string
  role: 'voter' | 'learner'
  address: string
  matchIndex: number | null
  lag: number | null
  leader: boolean
  promoteWhenCaughtUp: boolean
}

function rows(reply: MembershipReply): MemberRow[] {
  const configuration = configurationCodec.decode(reply.configuration)
  const matches = new Map(reply.progress.map((progress) => [progress.id, progress.matchIndex]))
  return allMembers(configuration).map((member) => {
    const leader = member.id === reply.leaderId
    const matchIndex = leader ? reply.lastIndex : (matches.get(member.id) ?? null)
    return {
      id: member.id,
      role: isVoter(configuration, member.id) ? 'voter' : 'learner',
      address: member.address,
      matchIndex,
      lag: matchIndex === null ? null : reply.lastIndex - matchIndex,
      leader,
      promoteWhenCaughtUp: member.promoteWhenCaughtUp,
    }
  })
}

function asJson(reply: MembershipReply) {
  return {
    clusterId: reply.clusterId,
    configurationIndex: reply.configurationIndex,
    committed: reply.committed,
    leader: reply.leaderId || null,
    members: rows(reply),
  }
}

function formatReply(reply: MembershipReply): string {
  const lines = [
    `cluster ${reply.clusterId}, configuration at index ${reply.configurationIndex} (${reply.committed ? 'committed' : 'not committed yet'}), leader ${reply.leaderId || 'unknown'}`,
  ]
  const table = [
    ['id', 'role', 'address', 'match', 'lag'],
    ...rows(reply).map((row) => [
      row.leader ? `${row.id} *` : row.id,
      row.promoteWhenCaughtUp ? `${row.role} (promoted when caught up)` : row.role,
      row.address,
      row.matchIndex === null ? '-' : String(row.matchIndex),
      row.lag === null ? '-' : String(row.lag),
    ]),
  ]
  lines.push(...formatTable(table))
  return `${lines.join('\n')}\n`
}
