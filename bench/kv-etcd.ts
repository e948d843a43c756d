// The etcd side of bench/kv.ts: three `etcd` processes on loopback (Debian's etcd-server, default
// fsync behaviour), each in its own data directory, and clients that write through etcd's
// HTTP/JSON gRPC gateway (`POST <prefix>/kv/put`, base64 key and value), one keep-alive connection
// per client, as a Node program without a gRPC library would talk to etcd.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { KvSystem, SetClient } from './kv-load.js'
import { freePortBlock } from '../src/testing/ports.js'

const HOST = '127.0.0.1'
const MEMBER_COUNT = 3
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5000
const POLL_MS = 100
/** Gateway prefixes by etcd version: 3.4 serves /v3 (and still /v3beta), 3.3 only /v3beta. */
const API_PREFIXES = ['/v3', '/v3beta']
/** Keep only the end of a member's stderr, for failure messages. */
const MAX_STDERR_CHARS = 8000

export class EtcdError extends Error {
  readonly code = 'ERR_ETCD'
}

/**
 * The etcd version on PATH, installing Debian's etcd-server first when it is missing and this
 * process is root; null, with what to do, when etcd cannot be had.
 */
export function ensureEtcd(): { version: string } | { missing: string } {
  const found = etcdVersion()
  if (found) return { version: found }
  if (process.getuid?.() !== 0) {
    return { missing: 'etcd is not installed and this is not root; install it with `sudo apt-get install -y etcd-server` and run again' }
  }
  process.stderr.write('etcd is missing: apt-get install -y etcd-server\n')
  const install = (): boolean => spawnSync('apt-get', ['install', '-y', 'etcd-server'], { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0
  // A fresh machine has no package lists yet; fetch them only when the plain install fails.
  if (!install() && spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0) install()
  const installed = etcdVersion()
  return installed ? { version: installed } : { missing: '`apt-get install -y etcd-server` did not give an etcd on PATH' }
}

function etcdVersion(): string | null {
  const result = spawnSync('etcd', ['--version'], { encoding: 'utf8' })
  if (result.status !== 0) return null
  return /etcd Version: (\S+)/.exec(result.stdout)?.[1] ?? 'unknown'
}

interface Member {
  name: string
  clientPort: number
  process: ChildProcess
  exited: Promise<void>
  stderrTail: () => string
}

export async function startEtcd(dataDirectory: string): Promise<KvSystem> {
  const base = await freePortBlock(2 * MEMBER_COUNT)
  const names = Array.from({ length: MEMBER_COUNT }, (_, i) => `etcd-${i + 1}`)
  const peerUrl = (i: number): string => `http://${HOST}:${base + MEMBER_COUNT + i + 1}`
  const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',')
  const members = names.map((name, i) => spawnMember(name, base + i + 1, peerUrl(i), initialCluster, join(dataDirectory, name)))
  const killAll = (): void => {
    for (const member of members) member.process.kill('SIGKILL')
  }
  // A crash of this process must not leave etcd running (lograft nodes follow their stdin instead).
  process.once('exit', killAll)
  const stop = async (): Promise<void> => {
    await Promise.all(members.map(stopMember))
    process.removeListener('exit', killAll)
  }
  let prefix: string
  try {
    await Promise.all(members.map(waitHealthy))
    prefix = await apiPrefix(members[0] as Member)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    name: 'etcd',
    memberCount: MEMBER_COUNT,
    leader: () => findLeader(members, prefix),
    connect: async (member) => gatewaySetClient(memberAt(members, member).clientPort, prefix),
    stop,
  }
}

function spawnMember(name: string, clientPort: number, peerUrl: string, initialCluster: string, dataDirectory: string): Member {
  mkdirSync(dataDirectory, { recursive: true })
  const clientUrl = `http://${HOST}:${clientPort}`
  const child = spawn(
    'etcd',
    [
      `--name=${name}`,
      `--data-dir=${dataDirectory}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      '--initial-cluster-token=lograft-bench',
      '--logger=zap',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-MAX_STDERR_CHARS)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return { name, clientPort, process: child, exited, stderrTail: () => stderr.trim() }
}

async function stopMember(member: Member): Promise<void> {
  if (member.process.exitCode !== null || member.process.signalCode !== null) return
  member.process.kill('SIGTERM')
  const timer = setTimeout(() => member.process.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await member.exited
  clearTimeout(timer)
}

/** Resolves once the member's /health says true (it has a leader); rejects if it exits or takes too long. */
async function waitHealthy(member: Member): Promise<void> {
  const deadlineMs = Date.now() + START_TIMEOUT_MS
  let exited = false
  void member.exited.then(() => (exited = true))
  while (Date.now() < deadlineMs) {
    if (exited) throw new EtcdError(`${member.name} exited while starting: ${member.stderrTail()}`)
    const health = await request(member.clientPort, 'GET', '/health', null).catch(() => null)
    if (health?.status === 200 && /"health":\s*"true"/.test(health.body)) return
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
  throw new EtcdError(`${member.name} was not healthy within ${START_TIMEOUT_MS} ms: ${member.stderrTail()}`)
}

/** The gateway prefix this etcd serves, asked of its maintenance/status endpoint. */
async function apiPrefix(member: Member): Promise<string> {
  for (const prefix of API_PREFIXES) {
    if ((await request(member.clientPort, 'POST', `${prefix}/maintenance/status`, '{}')).status === 200) return prefix
  }
  throw new EtcdError(`${member.name} serves none of ${API_PREFIXES.map((prefix) => `${prefix}/maintenance/status`).join(', ')}`)
}

async function findLeader(members: readonly Member[], prefix: string): Promise<number> {
  for (const [index, member] of members.entries()) {
    const status = parseStatus((await request(member.clientPort, 'POST', `${prefix}/maintenance/status`, '{}')).body)
    if (status.leader !== '' && status.leader === status.memberId) return index
  }
  throw new EtcdError('no etcd member reports itself as the leader')
}

/** The gateway's JSON status; ids are uint64s, which the gateway writes as strings. */
function parseStatus(body: string): { memberId: string; leader: string } {
  const parsed: unknown = JSON.parse(body)
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {}
  const header = typeof record.header === 'object' && record.header !== null ? (record.header as Record<string, unknown>) : {}
  return { memberId: String(header.member_id ?? ''), leader: String(record.leader ?? '') }
}

function gatewaySetClient(port: number, prefix: string): SetClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  return {
    async set(key, value) {
      const body = JSON.stringify({ key: Buffer.from(key).toString('base64'), value: value.toString('base64') })
      const reply = await request(port, 'POST', `${prefix}/kv/put`, body, agent)
      if (reply.status !== 200) throw new EtcdError(`put ${key} got HTTP ${reply.status}: ${reply.body.slice(0, 200)}`)
    },
    async close() {
      agent.destroy()
    },
  }
}

function request(port: number, method: string, path: string, body: string | null, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: HOST,
        port,
        method,
        path,
        ...(agent ? { agent } : {}),
        headers: body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}

function memberAt(members: readonly Member[], index: number): Member {
  const member = members[index]
  if (!member) throw new RangeError(`no etcd member ${index}; the cluster has ${members.length}`)
  return member
}
