// `lograft mr`: MapReduce jobs. `run` is a whole job on this machine; `coordinator` and `worker`
// run one across machines that share a filesystem; `seq` is the sequential reference run. Each is
// loaded when it is asked for: `mr run` starts its workers before it loads the coordinator.

import { UsageError } from './usage.js'
import { MR_USAGE } from './usage-text.js'

export async function mrCommand(args: string[]): Promise<void> {
  const [what, ...rest] = args
  switch (what) {
    case 'run':
      return (await import('./mr-run.js')).runLocalJob(rest)
    case 'coordinator':
      return (await import('./mr-roles.js')).coordinatorCommand(rest)
    case 'worker':
      return (await import('./mr-roles.js')).workerCommand(rest)
    case 'seq':
      return (await import('./mr-roles.js')).sequentialCommand(rest)
    default:
      throw new UsageError(`unknown mr command "${what ?? ''}"\n${MR_USAGE}`)
  }
}
