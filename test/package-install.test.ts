// lograft as a user gets it: `npm pack`, then in a fresh directory `npm install` of the tarball,
// a TypeScript file type-checked against the installed package's types, and each example's README
// steps run as written (its shell block: nodes started in the background, `lograft call`s whose
// output must begin as the `# →` line under them says, kill -9, log replay) with no file of
// lograft's source in reach.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { freePortBlock } from '../src/testing/ports.js'

t.setTimeout(600_000)

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const EXAMPLES = ['lock-service', 'bank-ledger']
const INSTALL_TIMEOUT_MS = 300_000
const STEP_TIMEOUT_MS = 60_000

const work = mkdtempSync(join(tmpdir(), 'lograft-package-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

/** The environment of a user's shell: without the test runner's loader hooks in NODE_OPTIONS. */
const userEnvironment = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS'))

function run(command: string, args: readonly string[], cwd: string, timeoutMs = STEP_TIMEOUT_MS): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], env: userEnvironment })
}

// Built already (npm test builds first), so the prepack build is skipped.
const packed = run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], ROOT, INSTALL_TIMEOUT_MS).trim().split('\n').pop() as string
const tarball = join(work, packed)

/** One fresh project with the tarball installed, shared by the subtests (an install is slow). */
const project = join(work, 'project')
execFileSync('mkdir', ['-p', project])
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'lograft-user', private: true, type: 'module' }))
run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project, INSTALL_TIMEOUT_MS)

/** A directory of its own inside the project (node_modules is found from the project above it). */
function freshProject(name: string): string {
  const directory = join(project, name)
  execFileSync('mkdir', ['-p', directory])
  return directory
}

/** Splits a README command line into words: spaces separate, single quotes group. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? '')
}

/** Runs the first ```sh block of `readme` in `directory`, checking every `# →` line. */
async function runReadme(t: Test, readme: string, directory: string): Promise<void> {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? ''
  const addresses = [...new Set(block.match(/127\.0\.0\.1:\d+/g) ?? [])]
  const base = await freePortBlock(addresses.length)
  const text = addresses.reduce((edited, address, i) => edited.split(address).join(`127.0.0.1:${base + i + 1}`), block)
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  const jobs: ChildProcess[] = []
  const lograft = join(project, 'node_modules', '.bin', 'lograft')
  let output = ''
  try {
    for (const line of lines) {
      const args = words(line)
      if (line.startsWith('# → ')) {
        const expected = line.slice('# → '.length)
        t.ok(output.startsWith(expected), `${expected} …`, { found: output })
      } else if (line.startsWith('npm install')) {
        output = '' // Done above, with the tarball.
      } else if (line.startsWith('npx lograft') && line.endsWith('&')) {
        const child = spawn(lograft, args.slice(2, -1), { cwd: directory, stdio: ['pipe', 'pipe', 'pipe'], env: userEnvironment })
        jobs.push(child)
        await new Promise<void>((resolve, reject) => {
          let seen = ''
          child.stdout?.on('data', (chunk: Buffer) => {
            seen += chunk.toString()
            if (seen.includes(' ready ')) resolve()
          })
          child.once('exit', (code) => reject(new Error(`${line} exited (${code}) before it was ready`)))
        })
      } else if (line.startsWith('npx lograft')) {
        output = run(lograft, args.slice(2), directory)
      } else if (args[0] === 'kill') {
        const signal = args[1] === '-9' ? 'SIGKILL' : 'SIGTERM'
        for (const job of args.filter((arg) => arg.startsWith('%'))) {
          const child = jobs[Number(job.slice(1)) - 1]
          if (!child || child.exitCode !== null) continue
          const exited = new Promise((resolve) => child.once('exit', resolve))
          child.kill(signal)
          await exited
        }
      } else {
        throw new Error(`the README runner does not know: ${line}`)
      }
    }
  } finally {
    for (const job of jobs) if (job.exitCode === null) job.kill('SIGKILL')
  }
}

t.test("a user's TypeScript type-checks against the installed package's types", async (t) => {
  const directory = freshProject('types-check')
  writeFileSync(
    join(directory, 'check.ts'),
    `import { MachineClerk, TcpTransport, jsonCodec, type StateMachine } from 'lograft'
import { MachineCluster, simTest } from 'lograft/testing'
import { SimWorld } from 'lograft/sim'
const counter: StateMachine<number, 'inc' | 'get', number> = {
  name: 'counter', initial: () => 0, isReadOnly: (command) => command === 'get',
  apply: (state, command, { index }) => ({ state: command === 'inc' ? state + 1 : state, result: command === 'inc' ? index : state }),
  commandCodec: jsonCodec(), resultCodec: jsonCodec(), stateCodec: jsonCodec(),
}
export const uses = [MachineClerk, TcpTransport, MachineCluster, simTest, SimWorld, counter]
`,
  )
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc')
  const out = (() => {
    try {
      return run(
        tsc,
        ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', '', 'check.ts'],
        directory,
      )
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error)
    }
  })()
  t.equal(out.trim(), '', 'no type errors')
  const shipped = readdirSync(join(project, 'node_modules', 'lograft'))
  t.notOk(shipped.includes('src'), 'no sources are shipped (source maps carry them inline)')
  t.ok(shipped.includes('LICENSE'))
  const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'lograft', 'package.json'), 'utf8')) as { scripts?: Record<string, string> }
  t.notOk(manifest.scripts?.prepare, 'no prepare script for npm to run on install')
})

for (const example of EXAMPLES) {
  t.test(`examples/${example}: its README steps work from the packed tarball`, async (t) => {
    const directory = freshProject(example)
    const built = join(ROOT, 'dist', 'examples', example)
    for (const file of readdirSync(built).filter((name) => name.endsWith('-machine.js'))) copyFileSync(join(built, file), join(directory, file))
    await runReadme(t, readFileSync(join(ROOT, 'examples', example, 'README.md'), 'utf8'), directory)
  })
}
