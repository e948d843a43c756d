// Word count over the Gutenberg fixtures, wall time from start to the last output file, side by
// side in one run:
//   coreutils    tr -cs '[:alpha:]' '\n' | sort | uniq -c  (the shell's word count)
//   seq          lograft mr seq --app wc           (one process, no files between map and reduce)
//   N workers    lograft mr run --app wc --workers N --reduce 10  (coordinator + N worker processes)
// Every run is a fresh process in a fresh directory, so process start-up is part of each time, as
// it is for a user. The setups take turns, round after round, so a slow spell of the machine hits
// them alike; the table shows the median of the rounds.
//
// Run with `npm run bench:mr`; ROUNDS overrides the number of rounds.

import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const WORKER_COUNTS = [1, 2, 4]
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const BOOKS_DIRECTORY = fileURLToPath(new URL('../../fixtures/gutenberg/', import.meta.url))
const BOOKS = readdirSync(BOOKS_DIRECTORY)
  .filter((name) => name.endsWith('.txt'))
  .sort()
/** A run that takes longer than this is broken, not slow. */
const RUN_LIMIT_MS = 120_000

interface Setup {
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
}

const setups: Setup[] = [
  { name: 'coreutils', command: 'sh', args: ['-c', `cat ${BOOKS.join(' ')} | tr -cs '[:alpha:]' '\\n' | sort | uniq -c > out.txt`] },
  { name: 'seq', command: process.execPath, args: [MAIN, 'mr', 'seq', '--app', 'wc', ...BOOKS] },
  ...WORKER_COUNTS.map((workers) => ({
    name: `${workers} worker${workers === 1 ? '' : 's'}`,
    command: process.execPath,
    args: [MAIN, 'mr', 'run', '--app', 'wc', '--workers', String(workers), '--reduce', '10', ...BOOKS],
  })),
]

/** Runs the setup once in a fresh directory holding the books; resolves with its wall time. */
function timeOnce(setup: Setup): Promise<number> {
  const directory = mkdtempSync(join(tmpdir(), 'lograft-bench-mr-'))
  for (const book of BOOKS) symlinkSync(join(BOOKS_DIRECTORY, book), join(directory, book))
  const startMs = performance.now()
  return new Promise<number>((resolve, reject) => {
    execFile(setup.command, setup.args, { cwd: directory, timeout: RUN_LIMIT_MS, maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
      const elapsedMs = performance.now() - startMs
      rmSync(directory, { recursive: true, force: true })
      if (error) reject(new Error(`${setup.name} failed: ${error.message}\n${stderr}`))
      else resolve(elapsedMs)
    })
  })
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

const times = new Map<string, number[]>(setups.map((setup) => [setup.name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const setup of setups) times.get(setup.name)?.push(await timeOnce(setup))
}

const medians = new Map(setups.map((setup) => [setup.name, median(times.get(setup.name) ?? [])]))
const seqMs = medians.get('seq') ?? Number.NaN
const coreutilsMs = medians.get('coreutils') ?? Number.NaN
const lines = [
  ['setup', 'wall ms (median)', 'min ms', 'vs seq', 'vs coreutils'],
  ...setups.map((setup) => {
    const ms = medians.get(setup.name) ?? Number.NaN
    return [
      setup.name,
      ms.toFixed(0),
      Math.min(...(times.get(setup.name) ?? [])).toFixed(0),
      `${(ms / seqMs).toFixed(2)}x`,
      `${(ms / coreutilsMs).toFixed(2)}x`,
    ]
  }),
]
console.log(
  `word count over ${BOOKS.length} books, ${ROUNDS} rounds, ${cpus().length} cores, LANG=${process.env.LANG ?? ''} LC_ALL=${process.env.LC_ALL ?? ''}`,
)
const widths = lines[0]?.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length))) ?? []
for (const line of lines) console.log(line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | '))
