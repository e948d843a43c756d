// `lograft shard demo`: a sharded KV of real processes on loopback — a 3-server controller and three
// 3-server replica groups — with RESP clients running SET/APPEND/GET through any group server
// (which forwards to the key's owner) while groups join, a shard is moved and a group leaves. It
// shows which shards move where and when each is served at its new owner, and ends with the whole
// recorded history checked for linearizability.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { RespClient } from '../resp/client.js'
import type { ShardConfig } from '../shard/config.js'
import { DemoWorkload, pause, say } from './demo-workload.js'
import { LocalShardDeployment, type MigrationEvent } from './shard-deployment.js'
import { type ShardProcess, respPortOf, shardLayout } from './shard-layout.js'
import { untilShutdown } from './shutdown.js'

const GIDS = [100, 101, 102]
const CLIENTS = 4
const KEYS = 10
/** Each step (a join, a move, a leave) must settle within this. */
const STEP_TIMEOUT_MS = 30_000
/** The clients run this long between steps, so every step happens under load. */
const BETWEEN_STEPS_MS = 1500

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

function plural(count: number, word: string): string {
  return `${word}${count === 1 ? '' : 's'}`
}

function describeMoves(previous: ShardConfig, config: ShardConfig): void {
  const moves = new Map<string, number[]>()
  config.shards.forEach((gid, shard) => {
    const from = previous.shards[shard] ?? 0
    if (gid === from) return
    const route = `${from === 0 ? 'unassigned' : `group ${from}`} → group ${gid}`
    moves.set(route, [...(moves.get(route) ?? []), shard])
  })
  const count = [...moves.values()].reduce((total, shards) => total + shards.length, 0)
  say(`config ${config.num}: ${count === 0 ? 'no shard moves' : `${count} ${plural(count, 'shard')} move`}`)
  for (const [route, shards] of moves) say(`  ${plural(shards.length, 'shard')} ${shards.join(', ')}: ${route}`)
}

function reportEvent(event: MigrationEvent): void {
  const shards = `${plural(event.shards.length, 'shard')} ${event.shards.join(', ')}`
  const what = event.kind === 'served' ? `${shards} served by group ${event.gid}` : `group ${event.gid} deleted its copies of ${shards}`
  say(`  ${seconds(event.elapsedMs).padStart(7)}  ${what}`)
}

/** Runs one administrative step and follows its migration until it has settled. */
async function step(title: string, deployment: LocalShardDeployment, change: () => Promise<ShardConfig>): Promise<void> {
  say(`\n== ${title}`)
  const previous = await deployment.admin.query(-1)
  const config = await change()
  describeMoves(previous, config)
  await deployment.waitForConfig(previous, config, STEP_TIMEOUT_MS, reportEvent)
}

export async function demoShard(dataDirectory: string, exitAfter: boolean): Promise<void> {
  const directory = join(dataDirectory, 'shard-demo')
  // Every run starts from an empty controller: the script below begins with the first join.
  rmSync(directory, { recursive: true, force: true })
  const layout = shardLayout({
    dataDirectory: directory,
    host: '127.0.0.1',
    raftBasePort: 7200,
    respBasePort: 6390,
    controllerServers: 3,
    gids: GIDS,
    serversPerGroup: 3,
  })
  say(`== starting a shard controller (3 processes) and groups ${GIDS.join(', ')} (3 processes each), LevelDB under ${directory}`)
  let stopping = false
  const deployment = await LocalShardDeployment.start(layout, (id, code, signal, lastError) => {
    if (!stopping) say(`!! ${id} exited (${signal ?? `code ${code}`})${lastError ? `: ${lastError}` : ''}`)
  })
  say(`controller: ${layout.controllerAddresses.join(', ')}`)
  for (const group of layout.groups)
    say(`group ${group.gid}: raft ${group.addresses.join(', ')}; RESP ${group.servers.map((server) => server.respAddress).join(', ')}`)

  try {
    const [first, second, third] = GIDS as [number, number, number]
    await step(`group ${first} joins`, deployment, () => deployment.join([first]))

    say(`\n== ${CLIENTS} clients run SET/APPEND/GET over RESP on ${KEYS} keys, each through a random group server (forwarding)`)
    const workload = new DemoWorkload(CLIENTS, `demo-${Date.now().toString(36)}`, KEYS, async () => {
      const servers = deployment.runningServers()
      const server = servers[Math.floor(Math.random() * servers.length)]
      return server ? RespClient.connect(respPortOf(server)) : null
    })
    await pause(BETWEEN_STEPS_MS)

    await step(`group ${second} joins`, deployment, () => deployment.join([second]))
    await pause(BETWEEN_STEPS_MS)
    await step(`group ${third} joins`, deployment, () => deployment.join([third]))
    await pause(BETWEEN_STEPS_MS)
    const latest = await deployment.admin.query(-1)
    const moved = latest.shards.findIndex((gid) => gid === first)
    await step(`shard ${moved} moves from group ${first} to group ${second}`, deployment, async () => (await deployment.admin.move(moved, second)).config)
    await pause(BETWEEN_STEPS_MS)
    await step(`group ${second} leaves`, deployment, () => deployment.admin.leave([second]))
    await pause(BETWEEN_STEPS_MS)
    await workload.stop()

    say('\n== checking the recorded history for linearizability')
    await workload.check(join(directory, 'linearizability.html'))
  } catch (error) {
    stopping = true
    await deployment.stop()
    throw error
  }

  const port = respPortOf(layout.groups[0]?.servers[0] as ShardProcess)
  say(`\nthe deployment keeps running; try:  redis-cli -p ${port}   (any group server forwards to the key's owner)`)
  say(`                                     lograft shard query --controller ${layout.controllerAddresses.join(',')}`)
  stopping = true
  if (exitAfter) {
    await deployment.stop()
    return
  }
  say('Ctrl-C stops it')
  stopping = false
  await untilShutdown(false)
  stopping = true
  say('\nstopping…')
  await deployment.stop()
}
