#!/usr/bin/env node
// The lograft command line: a thin shell over the library.

import { demoFoundation } from './demo-foundation.js'
import { UsageError, parseFlags } from './usage.js'

const USAGE = `usage: lograft <command> [options]

commands:
  demo foundation [--data DIR]   tour of the durable log, the TCP transport and the simulated network
  help                           this text
`

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case 'demo': {
      const [what, ...flags] = rest
      if (what !== 'foundation') throw new UsageError(`unknown demo "${what ?? ''}"; try: lograft demo foundation`)
      const { values } = parseFlags({ args: flags, strict: true, options: { data: { type: 'string', default: './data' } } })
      await demoFoundation(values.data)
      return
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return
    default:
      throw new UsageError(`unknown command "${command}"`)
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`lograft: ${error.message}\n\n${USAGE}`)
    process.exitCode = 2
  } else {
    process.stderr.write(`lograft: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  }
})
