// The collectors beside Raft's (issue 14): a RESP endpoint's commands by name and outcome, their
// latency and the clients connected, fed by its streams (a made-up command name is counted as
// "unknown", so a client cannot grow the label set); and a shard group's shards by status and an
// incoming migration's chunks, read from the group's state.

import { Registry } from 'prom-client'
import t from 'tap'
import { registerRespMetrics } from '../src/metrics/resp-metrics.js'
import { registerShardGroupMetrics } from '../src/metrics/shard-metrics.js'
import type { GroupState } from '../src/shard/group-types.js'
import { emptyShard } from '../src/shard/shard-state.js'
import { DEFAULT_SESSION_LIMITS } from '../src/statemachine/sessions.js'
import { sleep, systemClock } from '../src/base/clock.js'
import { startServer } from './helpers/resp-server.js'

t.test('RESP commands, outcomes, latency and connections', async (t) => {
  const running = await startServer(t)
  const registry = new Registry()
  const metrics = registerRespMetrics(registry, running.server)
  const first = await running.connect()
  const second = await running.connect()
  await first.call('SET', 'k', 'v')
  await first.call('GET', 'k')
  await second.call('GET', 'k')
  await second.call('MADEUPCOMMAND', 'x').catch(() => undefined)
  await second.call('SET', 'k').catch(() => undefined)
  const text = await registry.metrics()
  t.match(text, /lograft_resp_commands_total\{command="set",outcome="ok"\} 1/, 'a SET')
  t.match(text, /lograft_resp_commands_total\{command="get",outcome="ok"\} 2/, 'two GETs')
  t.match(text, /lograft_resp_commands_total\{command="set",outcome="error"\} 1/, 'a SET with too few arguments is an error')
  t.match(text, /lograft_resp_commands_total\{command="unknown",outcome="error"\} 1/, 'a made-up command is "unknown"')
  t.notMatch(text, /madeupcommand/i, 'its name is not a label')
  t.match(text, /lograft_resp_command_seconds_count\{command="get"\} 2/, 'latency per command')
  t.match(text, /lograft_resp_connections 2/, 'two clients')
  await second.close()
  for (let waited = 0; waited < 2000 && !/lograft_resp_connections 1/.test(await registry.metrics()); waited += 20) await sleep(systemClock, 20)
  t.match(await registry.metrics(), /lograft_resp_connections 1/, 'one once the other left')
  metrics.stop()
})

t.test("a shard group's shards by status, and how far a migration has come", async (t) => {
  const shards = new Map([
    [0, emptyShard('serving', DEFAULT_SESSION_LIMITS)],
    [1, emptyShard('pulling', DEFAULT_SESSION_LIMITS)],
    [2, emptyShard('offering', DEFAULT_SESSION_LIMITS)],
  ])
  const pulling = shards.get(1)
  if (pulling) pulling.transfer = { id: 't1', nextChunk: 7, digest: null, arrived: null }
  const state = {
    gid: 1,
    config: { num: 4, shards: [1, 1, 2], groups: {} },
    previous: { num: 3, shards: [1, 2, 1], groups: {} },
    shards,
  } as unknown as GroupState
  const registry = new Registry()
  const metrics = registerShardGroupMetrics(registry, () => state)
  const text = await registry.metrics()
  t.match(text, /lograft_shard_status\{shard="0",status="serving"\} 1/)
  t.match(text, /lograft_shard_status\{shard="1",status="pulling"\} 1/)
  t.match(text, /lograft_shard_status\{shard="2",status="offering"\} 1/)
  t.match(text, /lograft_shard_status\{shard="0",status="pulling"\} 0/)
  t.match(text, /lograft_shard_migration_chunks\{shard="1"\} 7/, 'the pulled shard has 7 chunks in')
  t.notMatch(text, /lograft_shard_migration_chunks\{shard="0"\}/, 'a served shard has no migration series')
  t.match(text, /lograft_shard_config_num 4/)
  shards.delete(2)
  t.notMatch(await registry.metrics(), /shard="2"/, 'a shard given up leaves no series')
  metrics.stop()
})
