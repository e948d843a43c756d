// `lograft shard join | leave | move | query`: the administrator's commands, each one call to the
// shard controller through its clerk over TCP, with a deadline so an unreachable controller is an
// error rather than a hang.

import { quietLogger } from '../base/logger.js'
import { parseAddress } from '../rpc/address.js'
import { TcpTransport } from '../rpc/tcp-transport.js'
import { DEFAULT_SHARD_COUNT, type ShardConfig, groupIds } from '../shard/config.js'
import { ControllerClerk } from '../shard/controller-clerk.js'
import type { TlsConfig } from '../rpc/tls.js'
import { TLS_FLAG_OPTIONS, tlsFromFlags } from './tls-flags.js'
import { UsageError, parseFlags, requireInteger } from './usage.js'

/** How long an admin command waits for the controller before it gives up. */
const ADMIN_TIMEOUT_MS = 10_000
const RPC_TIMEOUT_MS = 1000

export class ControllerUnreachableError extends Error {
  readonly code = 'ERR_CONTROLLER_UNREACHABLE'
}

/** "host:port,host:port,...", each checked; a bad one is a usage error naming the flag. */
export function addressList(flag: string, text: string): string[] {
  const addresses = text.split(',').map((item) => item.trim())
  for (const address of addresses) {
    try {
      if (parseAddress(address).port === 0) throw new Error(`port 0 is not a usable address: "${address}"`)
    } catch (error) {
      throw new UsageError(`--${flag}: ${(error as Error).message}`)
    }
  }
  if (new Set(addresses).size !== addresses.length) throw new UsageError(`--${flag}: an address is listed twice`)
  return addresses
}

export function singleAddress(flag: string, text: string): string {
  const addresses = addressList(flag, text)
  if (addresses.length !== 1) throw new UsageError(`--${flag} takes one host:port, got ${addresses.length}`)
  return addresses[0] as string
}

/** Runs `work` with a controller clerk over a client-only transport, closed afterwards. */
async function withController<T>(controllerText: string, tls: TlsConfig | undefined, what: string, work: (clerk: ControllerClerk) => Promise<T>): Promise<T> {
  const servers = addressList('controller', controllerText)
  const transport = await TcpTransport.start({ self: `lograft-admin-${process.pid}`, logger: quietLogger, backoffMaxMs: 500, ...(tls ? { tls } : {}) })
  let timer: NodeJS.Timeout | undefined
  try {
    const clerk = ControllerClerk.connect({ transport, servers, shardCount: DEFAULT_SHARD_COUNT, rpcTimeoutMs: RPC_TIMEOUT_MS })
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new ControllerUnreachableError(`${what}: no controller leader answered within ${ADMIN_TIMEOUT_MS / 1000} s (tried ${servers.join(', ')})`)),
        ADMIN_TIMEOUT_MS,
      )
    })
    return await Promise.race([work(clerk), deadline])
  } finally {
    clearTimeout(timer)
    await transport.close()
  }
}

function gidValue(text: string): number {
  return requireInteger('gid', text, 0, 1)
}

export function formatConfig(config: ShardConfig): string {
  const shards = config.shards.map((_, shard) => String(shard))
  const gids = config.shards.map(String)
  const width = Math.max(...[...shards, ...gids].map((cell) => cell.length))
  const row = (label: string, cells: string[]): string => `${label.padEnd(6)}${cells.map((cell) => cell.padStart(width + 1)).join('')}`
  const groups = groupIds(config).map((gid) => `  ${gid}: ${(config.groups[gid] ?? []).join(', ')}`)
  return [
    `config ${config.num}: ${config.shards.length} shards, ${groups.length} group${groups.length === 1 ? '' : 's'}`,
    row('shard', shards),
    row('gid', gids),
    'groups:',
    ...(groups.length > 0 ? groups : ['  (none)']),
  ].join('\n')
}

export async function joinCommand(args: string[], usage: string): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: { controller: { type: 'string' }, gid: { type: 'string' }, servers: { type: 'string' }, ...TLS_FLAG_OPTIONS },
  })
  if (!values.controller || !values.gid || !values.servers) throw new UsageError(`shard join needs --controller, --gid and --servers\n  ${usage}`)
  const gid = gidValue(values.gid)
  const servers = addressList('servers', values.servers)
  const config = await withController(values.controller, await tlsFromFlags(values), `join of group ${gid}`, (clerk) => clerk.join({ [gid]: servers }))
  process.stdout.write(`${formatConfig(config)}\n`)
}

export async function leaveCommand(args: string[], usage: string): Promise<void> {
  const { values } = parseFlags({ args, strict: true, options: { controller: { type: 'string' }, gid: { type: 'string' }, ...TLS_FLAG_OPTIONS } })
  if (!values.controller || !values.gid) throw new UsageError(`shard leave needs --controller and --gid\n  ${usage}`)
  const gids = values.gid.split(',').map(gidValue)
  const config = await withController(values.controller, await tlsFromFlags(values), `leave of ${gids.join(', ')}`, async (clerk) => {
    const latest = await clerk.query(-1)
    const unknown = gids.filter((gid) => !(gid in latest.groups))
    if (unknown.length > 0)
      throw new Error(`group ${unknown.join(', ')} is not in configuration ${latest.num} (groups: ${groupIds(latest).join(', ') || 'none'})`)
    return clerk.leave(gids)
  })
  process.stdout.write(`${formatConfig(config)}\n`)
}

export async function moveCommand(args: string[], usage: string): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: { controller: { type: 'string' }, shard: { type: 'string' }, gid: { type: 'string' }, ...TLS_FLAG_OPTIONS },
  })
  if (!values.controller || values.shard === undefined || !values.gid) throw new UsageError(`shard move needs --controller, --shard and --gid\n  ${usage}`)
  const shard = requireInteger('shard', values.shard, 0)
  if (shard >= DEFAULT_SHARD_COUNT) throw new UsageError(`--shard must be below ${DEFAULT_SHARD_COUNT}, got ${shard}`)
  const gid = gidValue(values.gid)
  const result = await withController(values.controller, await tlsFromFlags(values), `move of shard ${shard}`, (clerk) => clerk.move(shard, gid))
  if (result.error) throw new Error(`move refused: ${result.error} in configuration ${result.config.num}`)
  process.stdout.write(`${formatConfig(result.config)}\n`)
}

export async function queryCommand(args: string[], usage: string): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: { controller: { type: 'string' }, num: { type: 'string' }, json: { type: 'boolean', default: false }, ...TLS_FLAG_OPTIONS },
  })
  if (!values.controller) throw new UsageError(`shard query needs --controller\n  ${usage}`)
  const num = values.num === undefined ? -1 : requireInteger('num', values.num, -1)
  const config = await withController(values.controller, await tlsFromFlags(values), 'query', (clerk) => clerk.query(num))
  if (num >= 0 && config.num !== num) throw new Error(`there is no configuration ${num} yet (the latest is ${config.num})`)
  process.stdout.write(values.json ? `${JSON.stringify(config)}\n` : `${formatConfig(config)}\n`)
}
