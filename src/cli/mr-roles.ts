// `lograft mr coordinator`, `mr worker` and `mr seq`: a job's coordinator and its workers as
// processes of their own, on machines that share a filesystem, and the sequential reference run.

import { hostname } from 'node:os'
import { loadApp, runSequential, runWorker } from '../mapreduce/index.js'
import { formatAddress, parseAddress } from '../rpc/address.js'
import { TcpTransport } from '../rpc/tcp-transport.js'
import { sleep, systemClock } from '../base/clock.js'
import { quietLogger } from '../base/logger.js'
import { JOB_FLAGS, jobSettings, splitBytesFlag } from './mr-flags.js'
import { coordinateJob, prepareJob } from './mr-job.js'
import { TLS_FLAG_OPTIONS, tlsFromFlags } from './tls-flags.js'
import { UsageError, checkAddress, parseFlags, requireInteger } from './usage.js'
import { MR_USAGE } from './usage-text.js'

/** After the job, the coordinator answers "exit" this long, so workers between tasks hear it. */
const COORDINATOR_LINGER_MS = 1000

export async function coordinatorCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...JOB_FLAGS, listen: { type: 'string' }, ...TLS_FLAG_OPTIONS },
  })
  if (!values.listen) throw new UsageError(`mr coordinator needs --listen HOST:PORT\n  ${MR_USAGE.split('\n')[1]}`)
  const listen = parseAddress(checkAddress('listen', values.listen))
  const settings = jobSettings(values, positionals)
  await prepareJob(settings)
  const tls = await tlsFromFlags(values)
  const transport = await TcpTransport.start({ self: 'coordinator', listen, logger: quietLogger, ...(tls ? { tls } : {}) })
  process.stdout.write(`coordinator listening on ${transport.address ? formatAddress(transport.address) : values.listen}\n`)
  try {
    await coordinateJob(settings, transport, new Promise<never>(() => {}))
    await sleep(systemClock, COORDINATOR_LINGER_MS)
  } finally {
    await transport.close()
  }
}

export async function workerCommand(args: string[]): Promise<void> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      app: { type: 'string' },
      coordinator: { type: 'string' },
      dir: { type: 'string', default: '.' },
      'coordinator-timeout-ms': { type: 'string' },
      ...TLS_FLAG_OPTIONS,
    },
  })
  if (!values.app || !values.coordinator) throw new UsageError(`mr worker needs --app and --coordinator\n  ${MR_USAGE.split('\n')[2]}`)
  const coordinator = checkAddress('coordinator', values.coordinator)
  const coordinatorTimeoutMs = requireInteger('coordinator-timeout-ms', values['coordinator-timeout-ms'], 3000, 1)
  const app = await loadApp(values.app)
  const workerId = `${hostname()}-${process.pid}`
  const tls = await tlsFromFlags(values)
  const transport = await TcpTransport.start({ self: workerId, logger: quietLogger, backoffMaxMs: 500, ...(tls ? { tls } : {}) })
  try {
    await runWorker({ app, transport, coordinator, workerId, directory: values.dir, coordinatorTimeoutMs })
  } finally {
    await transport.close()
  }
}

export async function sequentialCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { app: { type: 'string' }, out: { type: 'string', default: 'mr-out-0' }, 'split-mib': { type: 'string' } },
  })
  if (!values.app) throw new UsageError(`mr seq needs --app\n  ${MR_USAGE.split('\n')[3]}`)
  if (positionals.length === 0) throw new UsageError('mr seq needs at least one input file')
  const app = await loadApp(values.app)
  await runSequential(app, positionals, values.out, splitBytesFlag(values['split-mib']))
}
