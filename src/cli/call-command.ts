// `lograft call --machine PATH --servers HOST:PORT,... COMMAND`: one command, given as JSON, to a
// cluster serving that machine, through an exactly-once MachineClerk that finds the leader; prints
// the result as JSON. The command-line counterpart of what an embedder's client code does.

import { TcpTransport } from '../rpc/tcp-transport.js'
import { silentLogger } from '../base/logger.js'
import { ClerkDeadlineError, CommandRefusedError, MachineClerk } from '../statemachine/machine-clerk.js'
import { loadMachine } from '../statemachine/machine-loader.js'
import { addressList } from './shard-admin.js'
import { TLS_FLAG_OPTIONS, tlsFromFlags } from './tls-flags.js'
import { UsageError, parseFlags, requireInteger } from './usage.js'
import { CALL_USAGE } from './usage-text.js'

export async function callCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { machine: { type: 'string' }, servers: { type: 'string' }, 'timeout-ms': { type: 'string' }, ...TLS_FLAG_OPTIONS },
  })
  if (!values.machine || !values.servers || positionals.length !== 1) throw new UsageError(`call needs --machine, --servers and one command\n${CALL_USAGE}`)
  let command: unknown
  try {
    command = JSON.parse(positionals[0] as string)
  } catch (error) {
    throw new UsageError(`the command is not JSON: ${(error as Error).message}`)
  }
  const machine = await loadMachine(values.machine)
  const tls = await tlsFromFlags(values)
  const transport = await TcpTransport.start({ self: `lograft-call-${process.pid}`, logger: silentLogger, ...(tls ? { tls } : {}) })
  const deadlineMs = requireInteger('timeout-ms', values['timeout-ms'], 10_000, 1)
  try {
    const clerk = new MachineClerk(machine, { transport, servers: addressList('servers', values.servers), deadlineMs, rpcTimeoutMs: 1000 })
    const result = await clerk.execute(command)
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } catch (error) {
    if (error instanceof ClerkDeadlineError || error instanceof CommandRefusedError) throw new Error(error.message)
    throw error
  } finally {
    await transport.close()
  }
}
