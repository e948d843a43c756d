// lograft's lint: typescript-eslint's recommended rules, plus the layer rules of ARCHITECTURE.md as
// import boundaries, so an arrow that should never exist fails CI instead of waiting for review.
// Run from the repository root (`npm run lint`): with --config, ESLint 9 takes paths from the working directory.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Import patterns (relative to a file in src/<layer>/) that reach a layer. */
const layer = (name) => [`../${name}/*`, `../${name}/**`, `../../${name}/*`, `../../${name}/**`]

/** The layers each layer must not import: imports run downwards only (ARCHITECTURE.md). */
const above = {
  base: ['log', 'rpc', 'sim', 'raft', 'statemachine', 'kv', 'shard', 'mapreduce', 'node', 'resp', 'testing', 'cli', 'metrics'],
  log: ['rpc', 'sim', 'raft', 'statemachine', 'kv', 'shard', 'mapreduce', 'node', 'resp', 'testing', 'cli', 'metrics'],
  rpc: ['log', 'sim', 'raft', 'statemachine', 'kv', 'shard', 'mapreduce', 'node', 'resp', 'testing', 'cli', 'metrics'],
  sim: ['raft', 'statemachine', 'kv', 'shard', 'mapreduce', 'node', 'resp', 'testing', 'cli', 'metrics'],
  raft: ['statemachine', 'kv', 'shard', 'mapreduce', 'node', 'resp', 'testing', 'cli', 'sim', 'metrics'],
  statemachine: ['kv', 'shard', 'mapreduce', 'node', 'resp', 'testing', 'cli', 'sim', 'metrics'],
  kv: ['shard', 'mapreduce', 'node', 'resp', 'testing', 'cli', 'sim', 'metrics'],
  shard: ['mapreduce', 'node', 'resp', 'testing', 'cli', 'sim', 'metrics'],
  mapreduce: ['raft', 'statemachine', 'kv', 'shard', 'node', 'resp', 'testing', 'cli', 'sim', 'log', 'metrics'],
  resp: ['raft', 'statemachine', 'shard', 'mapreduce', 'node', 'testing', 'cli', 'sim', 'log', 'metrics'],
  // Metrics are built on the observables of the Raft node, the runtime and the RESP server (and a shard group's state).
  metrics: ['log', 'rpc', 'sim', 'kv', 'mapreduce', 'node', 'testing', 'cli'],
  node: ['testing', 'cli', 'mapreduce', 'sim'],
  testing: ['cli'],
}

// The Raft core: a pure step function of (state, message | tick). Only the driver (node.ts and the
// RPC/transfer glue beside it) touches the log store, the transport and the clock.
const raftCore = [
  'src/raft/core.ts',
  'src/raft/progress.ts',
  'src/raft/quorum.ts',
  'src/raft/raft-log.ts',
  'src/raft/read-index.ts',
  'src/raft/membership.ts',
  'src/raft/limits.ts',
  'src/raft/message-checks.ts',
  'src/raft/types.ts',
  'src/raft/errors.ts',
]
// Reducers: (state, command, ctx) => { state, result }, with no I/O. Hashing (node:crypto) is pure.
const reducers = ['src/kv/kv.ts', 'src/kv/kv-state-encoding.ts', 'src/shard/controller-machine.ts', 'src/shard/group-machine.ts', 'src/shard/shard-state.ts']
const ioModules = ['node:fs', 'node:fs/*', 'node:net', 'node:tls', 'node:dgram', 'node:http', 'node:https', 'node:child_process', 'node:timers', 'node:timers/*']
const storage = ['classic-level', 'level', 'memory-level', 'abstract-level']

/** One no-restricted-imports rule for the files given (a later rule for a file replaces an earlier one, so each file gets exactly one). */
function importRule(files, ignores, groups) {
  return { files, ignores, rules: { 'no-restricted-imports': ['error', { patterns: groups }] } }
}

function layerGroups(name, extraLayers = []) {
  const layers = [...above[name], ...extraLayers]
  return layers.map((to) => ({ group: layer(to), message: `src/${name}/ must not import ${to}/: imports run downwards only (ARCHITECTURE.md)` }))
}

const clockRule = (message) => ({
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message },
    { name: 'setInterval', message },
    { name: 'performance', message },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message },
    { object: 'Math', property: 'random', message: 'take randomness from an injected seeded source (ARCHITECTURE.md)' },
  ],
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'tools/**', 'coverage/**', '.tap/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      // Unused names are TypeScript's job (noUnusedLocals/Parameters), which knows `_`-prefixed ones.
      '@typescript-eslint/no-unused-vars': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...Object.keys(above).map((name) => importRule([`src/${name}/**/*.ts`], [...raftCore, ...reducers], layerGroups(name))),
  importRule(raftCore, [], [
    ...layerGroups('raft', ['log', 'rpc']),
    { group: [...ioModules, ...storage, 'node:crypto'], message: 'the Raft core does no I/O: only the driver (raft/node.ts) touches the log, the transport and the clock (ARCHITECTURE.md)' },
  ]),
  { files: raftCore, rules: clockRule('the Raft core reads no clock: time arrives as ticks (ARCHITECTURE.md)') },
  ...['kv', 'shard'].map((name) =>
    importRule(
      reducers.filter((file) => file.startsWith(`src/${name}/`)),
      [],
      [
        ...layerGroups(name, ['log']),
        { group: [...ioModules, ...storage], message: 'reducers do no I/O: (state, command, ctx) => { state, result } (ARCHITECTURE.md)' },
      ],
    ),
  ),
  { files: reducers, rules: clockRule('reducers read no clock: the entry carries the leader\'s time (ctx.timeMs)') },
)
