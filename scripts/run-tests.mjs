#!/usr/bin/env node
// Runs the compiled test suite with tap and ends with one line, "N passed, N failed", counting
// the named tests (each file's t.test subtests). Extra arguments go to tap (e.g. a file list).
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// tap compiles its plugin set (.taprc turns its TypeScript loader off: the tests run compiled)
// once per install and per change of .taprc; the marker remembers which .taprc it was built for.
const TAP_BUILT_MARKER = 'node_modules/.cache/lograft-tap-build'
const taprcDigest = createHash('sha256').update(readFileSync('.taprc')).digest('hex')
if (!existsSync(TAP_BUILT_MARKER) || readFileSync(TAP_BUILT_MARKER, 'utf8') !== taprcDigest) {
  const built = spawnSync('npx', ['tap', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (built.status !== 0) process.exit(built.status ?? 1)
  mkdirSync('node_modules/.cache', { recursive: true })
  writeFileSync(TAP_BUILT_MARKER, taprcDigest)
}

function testFiles(directory) {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) return entry.name === 'helpers' || entry.name === 'fixtures' ? [] : testFiles(path)
    return entry.name.endsWith('.test.js') ? [path] : []
  })
}

const extra = process.argv.slice(2)
// The tests, and the examples' tests (each example is tested as its README says it works).
const files = extra.some((arg) => !arg.startsWith('-')) ? [] : [...testFiles('dist/test'), ...testFiles('dist/examples')].sort()
// A file's time limit: 300 s for one seed per simulation test; a sweep (SEEDS=n) runs every
// simulation test n times, so the limit grows with it (SEEDS=30 used to kill kv-lab4b at 300 s).
const PER_SEED_TIMEOUT_S = 300
const seeds = Number(process.env.SEEDS)
const timeoutS = PER_SEED_TIMEOUT_S * (Number.isSafeInteger(seeds) && seeds > 1 ? seeds : 1)
const tap = spawn('npx', ['tap', '--reporter=tap', '--jobs=2', `--timeout=${timeoutS}`, ...extra, ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
})

// A named test is a test point at the second level: four spaces in, inside a file's subtest.
const namedTest = /^ {4}(not )?ok \d+ - /
let passed = 0
let failed = 0
let pending = ''
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  const lines = (pending + chunk.toString()).split('\n')
  pending = lines.pop() ?? ''
  for (const line of lines) {
    const match = namedTest.exec(line)
    if (!match || line.includes('# SKIP')) continue
    if (match[1]) failed++
    else passed++
  }
})
tap.on('close', (code) => {
  if (code !== 0 && failed === 0) failed++ // A file that crashed before reporting counts as a failure.
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(code ?? 1)
})
