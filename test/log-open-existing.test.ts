// Reading a node's data (openExistingDiskLog, replayLog, `lograft log`) needs a database already
// there: a directory without one is refused with NoDatabaseError and left exactly as it was, since
// LevelDB, even told not to create a database, writes its LOCK and LOG files into the directory.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { kvMachine } from '../src/kv/kv.js'
import { NoDatabaseError, openDiskLog, openExistingDiskLog } from '../src/log/index.js'
import { replayLog } from '../src/statemachine/replay.js'

const parent = mkdtempSync(join(tmpdir(), 'lograft-open-existing-'))
t.teardown(() => rmSync(parent, { recursive: true, force: true }))

t.test('a directory that does not exist is refused and not created', async (t) => {
  const missing = join(parent, 'typo')
  const refused = await openExistingDiskLog(missing).catch((error: unknown) => error)
  t.type(refused, NoDatabaseError)
  t.match(refused, { code: 'ERR_LOG_NO_DATABASE', directory: missing, exists: false, message: /it does not exist/ })
  t.notOk(existsSync(missing), 'nothing created')
  const replayed = await replayLog(missing, kvMachine({ appendReturnsOldValue: false })).catch((error: unknown) => error)
  t.type(replayed, NoDatabaseError, 'replayLog of a path refuses it too')
  t.notOk(existsSync(missing), 'still nothing created')
})

t.test('a directory without a database is refused and left as it was', async (t) => {
  const unrelated = join(parent, 'photos')
  mkdirSync(unrelated)
  writeFileSync(join(unrelated, 'cat.jpg'), 'not a database')
  const refused = await openExistingDiskLog(unrelated).catch((error: unknown) => error)
  t.match(refused, { code: 'ERR_LOG_NO_DATABASE', exists: true, message: /no LevelDB database/ })
  t.same(readdirSync(unrelated), ['cat.jpg'])
})

t.test('a directory with a log store opens, with what was written', async (t) => {
  const directory = join(parent, 'node-1')
  const written = await openDiskLog(directory)
  await written.write({ entries: [{ index: 1, term: 1, type: 0, data: new Uint8Array([7]) }] })
  await written.close()
  const reopened = await openExistingDiskLog(directory)
  t.equal(reopened.lastIndex, 1)
  await reopened.close()
})

t.test('a directory another process holds, or a file, is refused with what is wrong', async (t) => {
  const directory = join(parent, 'held')
  const held = await openDiskLog(directory)
  const refusal = await openExistingDiskLog(directory).catch((error: unknown) => error)
  t.match(refusal, { code: 'ERR_LOG_LOCKED', directory, message: /is in use by another process/ }, 'LevelDB allows one holder of a directory at a time')
  await held.close()
  const reopened = await openExistingDiskLog(directory)
  await reopened.close()
  const file = join(parent, 'a-file')
  writeFileSync(file, 'x')
  t.match(await openDiskLog(file).catch((error: unknown) => error), {
    code: 'ERR_LOG_OPEN',
    message: /cannot open data directory .*a-file: it is a file, not a directory/,
  })
})
