// What MapReduce does beyond the lab, as the paper and Hadoop users expect, on real processes
// through `lograft mr run`: the combiner, backup tasks for stragglers, skipping bad records, app
// counters in the summary, big inputs mapped in pieces, and many small ones packed into few tasks.
import { readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { BOOKS, MrJob, expectCleanExits, sortedLines } from './helpers/mr-processes.js'

function fixtureApp(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))
}

/** Distinct keys and lines of every intermediate file mr-X-Y in the job directory. */
function intermediateStats(directory: string): { lines: number; filesWithRepeatedKeys: number } {
  let lines = 0
  let filesWithRepeatedKeys = 0
  for (const name of readdirSync(directory).filter((file) => /^mr-\d+-\d+$/.test(file))) {
    const keys = sortedLines(readFileSync(join(directory, name), 'utf8')).map((line) => (JSON.parse(line) as [string, string])[0])
    lines += keys.length
    if (new Set(keys).size !== keys.length) filesWithRepeatedKeys++
  }
  return { lines, filesWithRepeatedKeys }
}

t.test('the combiner folds each map task’s pairs by key before they are written: far fewer intermediate records, the same output', async (t) => {
  const combined = new MrJob(t)
  const withCombiner = combined.lograft('mr run', ['mr', 'run', '--app', 'wc', '--workers', '2', '--keep-intermediate', ...BOOKS])
  const plain = new MrJob(t)
  const without = plain.lograft('mr run', ['mr', 'run', '--app', fixtureApp('mr-wc-without-combiner-app'), '--workers', '2', '--keep-intermediate', ...BOOKS])
  await expectCleanExits(t, [withCombiner, without])
  const expected = await combined.sequential('wc')
  t.same(combined.output(), expected, 'with the combiner the output equals the sequential word count')
  t.same(plain.output(), expected, 'and so it does without')
  const withStats = intermediateStats(combined.directory)
  const withoutStats = intermediateStats(plain.directory)
  t.equal(withStats.filesWithRepeatedKeys, 0, 'with the combiner no intermediate file repeats a key')
  t.ok(withoutStats.filesWithRepeatedKeys > 0)
  t.ok(withStats.lines * 5 < withoutStats.lines, `${withStats.lines} intermediate records instead of ${withoutStats.lines}`)
  t.match(withCombiner.stdout, new RegExp(`combine output records +${withStats.lines}\\n`), 'the summary counts what the combiner wrote')
  t.notMatch(without.stdout, /combine/, 'no combine counters without a combiner')
})

t.test('backup tasks: with a straggler at the end of the map phase, a backup attempt finishes the job long before it', async (t) => {
  const job = new MrJob(t)
  const startMs = performance.now()
  const run = job.lograft('mr run', [
    'mr',
    'run',
    '--app',
    fixtureApp('mr-straggler-app'),
    '--workers',
    '3',
    '--backup-tasks',
    '--backup-after-ms',
    '500',
    ...BOOKS,
  ])
  await expectCleanExits(t, [run])
  const elapsedMs = performance.now() - startMs
  t.ok(elapsedMs < 20_000, `done in ${Math.round(elapsedMs)} ms, not after the straggler's 30 s (nor the 10 s task timeout)`)
  t.match(run.stdout, /backup attempt 2 to /, 'the progress shows the backup')
  t.match(run.stdout, /re-executions +1 \(0 timed out, 0 failed, 1 backup;/)
  t.same(job.output(), await job.sequential('wc'))
})

t.test('skipping bad records: a book whose map always throws and a word whose reduce always throws are skipped, and the rest is counted', async (t) => {
  const job = new MrJob(t)
  const run = job.lograft('mr run', ['mr', 'run', '--app', fixtureApp('mr-poison-app'), '--workers', '2', '--skip-bad-records', ...BOOKS])
  await expectCleanExits(t, [run])
  const healthyBooks = BOOKS.filter((book) => book !== 'pg-metamorphosis.txt')
  const expected = (await job.sequential('wc', healthyBooks)).filter((line) => !line.startsWith('Holmes '))
  t.same(
    job.output().filter((line) => line !== ''),
    expected,
    'the output is the word count of the other books without "Holmes"',
  )
  t.match(run.stdout, /skipping bad record "pg-metamorphosis\.txt"/)
  t.match(run.stdout, /skipping bad record "Holmes"/)
  t.match(
    run.stdout,
    /skipped +"pg-metamorphosis\.txt" \(map task \d\), "Holmes" \(reduce task \d\)|skipped +"Holmes" \(reduce task \d\), "pg-metamorphosis\.txt"/,
  )
  t.match(run.stdout, /skipped records +2\n/)
  t.match(run.stdout, /app counters\n +map calls +7\n/, 'app counters count the committed attempts only: failed map calls are not in it')
})

t.test('without skipping, a record that always fails fails the job after four attempts, naming the record', async (t) => {
  const job = new MrJob(t)
  const run = job.lograft('mr run', ['mr', 'run', '--app', fixtureApp('mr-poison-app'), '--workers', '2', ...BOOKS])
  const exit = await run.exited
  t.equal(exit.code, 1)
  t.match(
    run.stderr,
    /the job failed: map task \d on record "pg-metamorphosis\.txt" failed 4 times \(skipping bad records is off\): map of "pg-metamorphosis\.txt" failed: cannot parse/,
  )
})

t.test('a file larger than the split size is mapped in pieces of whole lines, and counted as the books are one by one', async (t) => {
  const job = new MrJob(t)
  // Every book in one file of about 3.3 MB, mapped in pieces of about 1 MiB.
  writeFileSync(join(job.directory, 'shelf.txt'), BOOKS.map((book) => readFileSync(join(job.directory, book), 'utf8')).join('\n'))
  const run = job.lograft('mr run', ['mr', 'run', '--app', 'wc', '--workers', '2', '--split-mib', '1', 'shelf.txt'])
  await expectCleanExits(t, [run])
  t.match(run.stdout, /tasks +4 map, 10 reduce/, 'four pieces, four map tasks')
  t.match(run.stdout, /map input files +1\n/, 'one file')
  t.same(job.output(), await job.sequential('wc'))
})

t.test('many small files are packed into fewer map tasks: the same output as mr seq, far fewer intermediate files', async (t) => {
  const job = new MrJob(t)
  // 40 book-sized files (16 MB): every book five times over, under names of its own.
  const copies = [1, 2, 3, 4].flatMap((copy) => BOOKS.map((book) => `copy-${copy}-${book}`))
  for (const [index, copy] of copies.entries()) symlinkSync(BOOKS[index % BOOKS.length] as string, join(job.directory, copy))
  const files = [...BOOKS, ...copies]
  const run = job.lograft('mr run', ['mr', 'run', '--app', 'wc', '--workers', '2', '--keep-intermediate', ...files])
  await expectCleanExits(t, [run])
  t.same(job.output(), await job.sequential('wc', files), 'the output equals the sequential word count')
  const mapTasks = Number(/tasks +(\d+) map, 10 reduce/.exec(run.stdout)?.[1])
  t.ok(mapTasks >= 16 && mapTasks < files.length, `${mapTasks} map tasks for ${files.length} files`)
  t.match(run.stdout, /map input files +40\n/, 'every file counted once')
  const intermediateFiles = readdirSync(job.directory).filter((name) => /^mr-\d+-\d+$/.test(name)).length
  t.equal(intermediateFiles, mapTasks * 10, `${intermediateFiles} intermediate files, one set per task`)
  t.ok(intermediateFiles < files.length * 10, `instead of ${files.length * 10}, one set per file`)
})
