// Word count over corpora of at least 100 MB made from the Gutenberg fixtures (bench/mr-corpus.ts:
// eight big "shelves", which a job maps in pieces, and hundreds of book-sized files), wall time from
// start to the last output file, side by side in one run:
//   coreutils    cat | tr -cs '[:alpha:]' '\n' | sort | uniq -c   under LC_ALL=C
//   seq          lograft mr seq --app wc                          (one process, no files between map and reduce)
//   N workers    lograft mr run --app wc --workers N --reduce 10  (coordinator + N worker processes)
//   2 seqs at once  two `mr seq` side by side: not a tool, but how much a second core gives on this
//                work on a shared machine, which bounds what two workers can gain over one process
//   start-up     `mr seq` of an empty file: what starting one lograft process costs. `mr run` starts
//                its workers once it has read its flags (timed as `mr run` with no input file), and
//                they take a start-up before the first map runs
// LC_ALL=C is the fastest locale for sort and tr, and the order it sorts in (bytes) is the order of
// lograft's outputs; on an ASCII corpus `[:alpha:]` is then the same set of letters as \p{L}, so in
// the first round every tool's output is compared with the coreutils count, word by word.
// Every run is a fresh process in a fresh directory, so process start-up is part of each time, as
// it is for a user. The setups take turns, round after round, so a slow spell of the machine hits
// them alike; the tables show the median of the rounds.
//
// Run with `npm run bench:mr`; ROUNDS, CORPUS_MB (10^6 bytes) and CORPUS (shelves or books; both by
// default) override the defaults, and LOGRAFT_CPU_PROFILE_DIR=DIR has every lograft process write a
// CPU profile to DIR as it exits.

import { type ExecFileException, execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Corpus, type CorpusShape, firstDifference, makeCorpus, parseMrCounts, parseUniqCounts } from './mr-corpus.js'
import { median } from './stats.js'
import { printTable } from './table.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const CORPUS_BYTES = Number(process.env.CORPUS_MB ?? 100) * 1e6
const SHAPES: CorpusShape[] = process.env.CORPUS ? [process.env.CORPUS as CorpusShape] : ['shelves', 'books']
const WORKER_COUNTS = [1, 2, 4]
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const CPU_PROFILE_PRELOAD = new URL('./cpu-profile.js', import.meta.url).href
/** A run that takes longer than this is broken, not slow. */
const RUN_LIMIT_MS = 300_000
const TWO_SEQS = '2 seqs at once'
/** Two `mr seq` runs side by side (node, main.js, then the files as arguments); fails if either does. */
const TWO_SEQS_SCRIPT = `node="$1"; main="$2"; shift 2
"$node" "$main" mr seq --app wc --out a.out "$@" & first=$!
"$node" "$main" mr seq --app wc --out b.out "$@" & second=$!
wait $first && wait $second`
/** Issue 16's goals: `mr seq` no slower than coreutils, and 2 workers at most 0.6× `mr seq`. */
const SEQ_VS_COREUTILS_GOAL = 1.0
const TWO_WORKERS_VS_SEQ_GOAL = 0.6

interface Setup {
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
  /** The word counts in a finished run's directory, checked against coreutils' (none for the capacity check). */
  readonly counts?: (directory: string) => Map<string, number>
}

const lograftEnv = lograftEnvironment()
const mrOutputs = (directory: string): Map<string, number> =>
  parseMrCounts(
    readdirSync(directory)
      .filter((name) => /^mr-out-\d+$/.test(name))
      .map((name) => readFileSync(join(directory, name), 'utf8')),
  )

function setupsFor(corpus: Corpus): Setup[] {
  return [
    {
      name: 'coreutils',
      command: 'sh',
      // The files are the script's arguments ("$@"), so no name is ever parsed by the shell.
      args: ['-c', `cat "$@" | tr -cs '[:alpha:]' '\\n' | sort | uniq -c > out.txt`, 'sh', ...corpus.files],
      env: { ...process.env, LC_ALL: 'C' },
      counts: (directory) => parseUniqCounts(readFileSync(join(directory, 'out.txt'), 'utf8')),
    },
    { name: 'seq', command: process.execPath, args: [MAIN, 'mr', 'seq', '--app', 'wc', ...corpus.files], env: lograftEnv, counts: mrOutputs },
    {
      // Not a tool: how much work this shared machine's two cores do at once, on this very work.
      name: TWO_SEQS,
      command: 'sh',
      args: ['-c', TWO_SEQS_SCRIPT, 'sh', process.execPath, MAIN, ...corpus.files],
      env: lograftEnv,
    },
    ...WORKER_COUNTS.map((workers) => ({
      name: `${workers} worker${workers === 1 ? '' : 's'}`,
      command: process.execPath,
      args: [MAIN, 'mr', 'run', '--app', 'wc', '--workers', String(workers), '--reduce', '10', ...corpus.files],
      env: lograftEnv,
      counts: mrOutputs,
    })),
  ]
}

/** The environment of lograft's processes: with the CPU profile preload if profiles are asked for. */
function lograftEnvironment(): NodeJS.ProcessEnv {
  const profileDirectory = process.env.LOGRAFT_CPU_PROFILE_DIR
  if (!profileDirectory) return process.env
  mkdirSync(profileDirectory, { recursive: true })
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import=${CPU_PROFILE_PRELOAD}`.trim()
  return { ...process.env, CPU_PROFILE_DIR: profileDirectory, NODE_OPTIONS: nodeOptions }
}

/** A command run once: its wall time, its error (null if it exited 0) and what it wrote to stderr. */
interface TimedRun {
  ms: number
  error: ExecFileException | null
  stderr: string
}

/** Runs `command args` in `directory` and resolves with its wall time and how it ended; never rejects. */
function runTimed(command: string, args: readonly string[], env: NodeJS.ProcessEnv, directory: string): Promise<TimedRun> {
  const startMs = performance.now()
  return new Promise((resolve) => {
    execFile(command, args, { cwd: directory, env, timeout: RUN_LIMIT_MS, maxBuffer: 16 << 20 }, (error, _stdout, stderr) =>
      resolve({ ms: performance.now() - startMs, error, stderr }),
    )
  })
}

/** Runs the setup once in a fresh directory linking the corpus; resolves with its wall time and, if asked, its counts. */
async function timeOnce(corpus: Corpus, setup: Setup, withCounts: boolean): Promise<{ ms: number; counts: Map<string, number> | null }> {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-bench-mr-'))
  try {
    for (const file of corpus.files) symlinkSync(join(corpus.directory, file), join(directory, file))
    const { ms, error, stderr } = await runTimed(setup.command, setup.args, setup.env, directory)
    if (error) throw new Error(`${setup.name} failed: ${error.message}\n${stderr}`)
    return { ms, counts: withCounts && setup.counts ? setup.counts(directory) : null }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/**
 * The wall time of one lograft process run with `args` in a fresh directory holding an empty file
 * (empty.txt); it must exit with `exitCode`, and a failing run must say `saying` on stderr.
 */
async function timeLograft(args: readonly string[], exitCode: number, saying = ''): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-bench-mr-start-'))
  try {
    writeFileSync(join(directory, 'empty.txt'), '')
    const { ms, error, stderr } = await runTimed(process.execPath, [MAIN, ...args], lograftEnv, directory)
    const code = error ? error.code : 0
    if (code !== exitCode || !stderr.includes(saying)) throw new Error(`lograft ${args.join(' ')} exited with ${code}, not ${exitCode}: ${stderr}`)
    return ms
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

interface Measured {
  readonly corpus: Corpus
  readonly setups: readonly Setup[]
  /** Wall times by setup name, one per round. */
  readonly times: Map<string, number[]>
  reference: Map<string, number> | null
}

const loadBefore = loadavg()[0] ?? 0
const measured: Measured[] = []
const startupTimes: number[] = []
const spawnDelayTimes: number[] = []
try {
  for (const shape of SHAPES) {
    const corpus = makeCorpus(shape, CORPUS_BYTES)
    const setups = setupsFor(corpus)
    measured.push({ corpus, setups, times: new Map(setups.map((setup) => [setup.name, []])), reference: null })
  }
  for (let round = 0; round < ROUNDS; round++) {
    startupTimes.push(await timeLograft(['mr', 'seq', '--app', 'wc', 'empty.txt'], 0))
    spawnDelayTimes.push(await timeLograft(['mr', 'run', '--app', 'wc'], 2, 'at least one input file'))
    for (const run of measured) {
      for (const setup of run.setups) {
        const { ms, counts } = await timeOnce(run.corpus, setup, round === 0)
        run.times.get(setup.name)?.push(ms)
        if (!counts) continue
        run.reference ??= counts
        const difference = firstDifference(run.reference, counts)
        if (difference !== null) throw new Error(`${setup.name} on ${run.corpus.shape} does not count as coreutils does: ${difference}`)
      }
    }
  }
} finally {
  for (const run of measured) rmSync(run.corpus.directory, { recursive: true, force: true })
}

console.log(`${ROUNDS} rounds, ${cpus().length} cores, load average ${loadBefore.toFixed(1)} before and ${(loadavg()[0] ?? 0).toFixed(1)} after`)
console.log('in round 1 every output counted the same words as coreutils')
const startupMs = median(startupTimes)
const spawnDelayMs = median(spawnDelayTimes)
console.log(
  `a lograft process starts in ${(startupMs / 1000).toFixed(2)} s (\`mr seq\` of an empty file), and \`mr run\` has read its flags ` +
    `and can start its workers in ${(spawnDelayMs / 1000).toFixed(2)} s (\`mr run\` with no input file); medians`,
)
for (const { corpus, setups, times } of measured) {
  const medians = new Map(setups.map((setup) => [setup.name, median(times.get(setup.name) ?? [])]))
  const seqMs = medians.get('seq') ?? Number.NaN
  const coreutilsMs = medians.get('coreutils') ?? Number.NaN
  console.log('')
  console.log(`${corpus.shape}: ${corpus.files.length} files, ${(corpus.bytes / 1e6).toFixed(1)} MB (${corpus.ascii ? 'ASCII' : 'not ASCII'})`)
  printTable(
    ['tool', 'seconds (median)', 'min s', 'vs coreutils', 'vs seq'],
    setups.map((setup) => {
      const ms = medians.get(setup.name) ?? Number.NaN
      return [
        setup.name,
        (ms / 1000).toFixed(2),
        (Math.min(...(times.get(setup.name) ?? [])) / 1000).toFixed(2),
        `${(ms / coreutilsMs).toFixed(2)}x`,
        `${(ms / seqMs).toFixed(2)}x`,
      ]
    }),
  )
  // Two seqs at once do twice seq's work: this is the throughput of both cores over one's. Two
  // workers can at best share seq's work past its start-up at that throughput, once mr run has
  // started them and they have started; anything more is their overhead.
  const cores = (2 * seqMs) / (medians.get(TWO_SEQS) ?? Number.NaN)
  const bestTwoWorkersMs = spawnDelayMs + startupMs + (seqMs - startupMs) / cores
  console.log(
    `two seqs at once ran at ${cores.toFixed(2)}x the throughput of one (2.00: two free cores): 2 workers sharing seq's work ` +
      `at that throughput could reach ${(1 / cores).toFixed(2)}x seq`,
  )
  console.log(
    `with mr run starting its workers and their start-up one after the other (${((spawnDelayMs + startupMs) / 1000).toFixed(2)} s), ` +
      `and only seq's work past its own start-up shared, at best ${(bestTwoWorkersMs / seqMs).toFixed(2)}x seq`,
  )
  const seqRatio = seqMs / coreutilsMs
  const twoWorkersRatio = (medians.get('2 workers') ?? Number.NaN) / seqMs
  printTable(
    ['goal', 'measured', 'met'],
    [
      [`seq <= ${SEQ_VS_COREUTILS_GOAL}x coreutils`, `${seqRatio.toFixed(2)}x`, seqRatio <= SEQ_VS_COREUTILS_GOAL ? 'yes' : 'no'],
      [`2 workers <= ${TWO_WORKERS_VS_SEQ_GOAL}x seq`, `${twoWorkersRatio.toFixed(2)}x`, twoWorkersRatio <= TWO_WORKERS_VS_SEQ_GOAL ? 'yes' : 'no'],
    ],
  )
}
