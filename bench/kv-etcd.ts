// The etcd side of bench/kv.ts: three `etcd` processes on loopback (Debian's etcd-server, default
// fsync behaviour), each in its own data directory, with clients on etcd's HTTP/JSON gRPC gateway
// (bench/kv-etcd-gateway.ts).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ETCD_HOST, gatewayKvClient, parseStatus, request } from './kv-etcd-gateway.js'
import type { KvSystem } from './kv-system.js'
import { freePortBlock } from '../src/testing/ports.js'

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
  const peerUrl = (i: number): string => `http://${ETCD_HOST}:${base + MEMBER_COUNT + i + 1}`
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
  let memberPids: number[]
  try {
    await Promise.all(members.map(waitHealthy))
    prefix = await apiPrefix(members[0] as Member)
    memberPids = members.map(processId)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    name: 'etcd',
    memberCount: MEMBER_COUNT,
    memberPids,
    leader: () => findLeader(members, prefix),
    connect: async (member) => gatewayKvClient(memberAt(members, member).clientPort, prefix),
    stop,
  }
}

function spawnMember(name: string, clientPort: number, peerUrl: string, initialCluster: string, dataDirectory: string): Member {
  mkdirSync(dataDirectory, { recursive: true })
  const clientUrl = `http://${ETCD_HOST}:${clientPort}`
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

function processId(member: Member): number {
  if (member.process.pid === undefined) throw new EtcdError(`${member.name} has no process id: it was never spawned`)
  return member.process.pid
}

function memberAt(members: readonly Member[], index: number): Member {
  const member = members[index]
  if (!member) throw new RangeError(`no etcd member ${index}; the cluster has ${members.length}`)
  return member
}
