// A full disk is fail-stop (issue 11, finding 5): one node of a real 3-process cluster keeps its
// data on a small tmpfs that fills up. On ENOSPC the node exits non-zero with one line naming its
// store and the error (no zombie answering INFO as if healthy), the supervisor reports it, the
// other two go on, and once space is freed the node restarts on its directory and catches up.

import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { makeTempDir } from './helpers/log.js'
import { infoFields, pause, respPort, respCommand, startKvCluster, waitForLeader } from './helpers/kv-processes.js'

const DISK_BYTES = 24 * 1024 * 1024
const VALUE = 'x'.repeat(64 * 1024)

/** A tmpfs of DISK_BYTES at a fresh mount point (this test needs root, as CI has). */
function mountSmallDisk(): { path: string; unmount: () => void } {
  const mountPoint = makeTempDir('full-disk')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES}`, 'tmpfs', mountPoint.path])
  } catch (error) {
    throw new Error(`cannot mount a tmpfs to fill (this test needs root): ${(error as Error).message}`)
  }
  return {
    path: mountPoint.path,
    unmount: () => {
      execFileSync('umount', ['-l', mountPoint.path])
      mountPoint.remove()
    },
  }
}

t.test('the node whose disk fills exits with one clear line; the rest go on; freed, it comes back', async (t) => {
  const disk = mountSmallDisk()
  t.teardown(disk.unmount)
  const exits: string[] = []
  const kv = await startKvCluster(3, {
    onExit: (id, code, signal, lastError) => exits.push(`${id} ${signal ?? code}: ${lastError ?? ''}`),
    adjustLayout: (layout) => ({
      ...layout,
      nodes: layout.nodes.map((node) => (node.id === '1' ? { ...node, dataDirectory: join(disk.path, 'node-1') } : node)),
    }),
  })
  t.teardown(() => kv.stop(false))
  const full = kv.cluster.node('1')
  const healthy = kv.cluster.node('2')
  mkdirSync(full.dataDirectory, { recursive: true })
  // Leave about 2 MiB free.
  const filler = join(disk.path, 'filler')
  writeFileSync(filler, Buffer.alloc(DISK_BYTES - 2 * 1024 * 1024 - 512 * 1024))

  const written: string[] = []
  for (let i = 0; i < 200 && !exits.some((exit) => exit.startsWith('1 ')); i++) {
    const leader = await waitForLeader(kv.cluster, 10_000)
    if (!leader) break
    const key = `big${i}`
    const reply = await respCommand(respPort(leader), 'SET', key, VALUE).catch((error: Error) => error.message)
    if (reply === 'OK') written.push(key)
  }

  t.match(
    exits,
    [/^1 1: lograft: log store ".*node-1" failed a durable write and stopped: .*(No space left on device|ENOSPC)/i],
    'node 1 exited non-zero, naming its store and the error',
  )
  t.comment(exits[0] ?? '(no exit)')
  t.equal(await infoFields(respPort(full)), null, 'no zombie: nothing answers on its port')
  const leader = await waitForLeader(kv.cluster, 15_000)
  t.ok(leader && leader.id !== '1', 'the other two elect a leader')
  t.equal(await respCommand(respPort(healthy), 'SET', 'after', 'full'), 'OK', 'and take writes')

  rmSync(filler)
  await kv.cluster.start('1')
  let caughtUp = false
  for (let attempt = 0; attempt < 100 && !caughtUp; attempt++) {
    caughtUp = (await infoFields(respPort(full)))?.get('applied_index') === (await infoFields(respPort(healthy)))?.get('applied_index')
    if (!caughtUp) await pause(100)
  }
  t.ok(caughtUp, 'restarted with space, node 1 catches up')
  for (const key of written.slice(-3)) t.equal((await respCommand(respPort(full), 'GET', key)).length, VALUE.length, `${key} reads back through node 1`)
  t.ok(written.length > 0, `${written.length} large writes were acknowledged`)
})
