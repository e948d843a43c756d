// What the command line loads before it does its work. The TCP transport brings protobufjs and every
// codec with it, 80 ms of a lograft process's start on the benchmarks' machine: the CLI's own
// dispatch and flag checks must not need it, and `mr run` starts its workers before it loads the
// coordinator's side, so the two start-ups overlap instead of following each other.
import { execFile } from 'node:child_process'
import t from 'tap'

/** Whether importing `modules` (paths relative to this file), in a fresh process, loads protobufjs. */
function loadsProtobuf(...modules: string[]): Promise<boolean> {
  const urls = modules.map((module) => new URL(module, import.meta.url).href)
  const script = `
    import { createRequire } from 'node:module'
    for (const url of ${JSON.stringify(urls)}) await import(url)
    const loaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/protobufjs/'))
    process.stdout.write(String(loaded))`
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`))
      else resolve(stdout === 'true')
    })
  })
}

t.test('the transport loads protobufjs, so the check below can tell', async (t) => {
  t.equal(await loadsProtobuf('../src/rpc/tcp-transport.js'), true)
})

t.test("the CLI's dispatch and flag checks, and mr run's first stage, load no transport", async (t) => {
  t.equal(await loadsProtobuf('../src/cli/usage.js', '../src/cli/usage-text.js'), false, 'usage: flags and addresses')
  t.equal(await loadsProtobuf('../src/cli/mr-command.js', '../src/cli/mr-run.js', '../src/cli/mr-flags.js'), false, 'mr run until its workers start')
})
