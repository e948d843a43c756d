// A preload (`node --import`) that records a V8 CPU profile of the whole process and writes it to
// $CPU_PROFILE_DIR/<pid>.cpuprofile when the process exits. Node's own --cpu-prof cannot be passed
// in NODE_OPTIONS, and the benchmark's node processes are spawned by LocalCluster, whose command
// line it does not control; NODE_OPTIONS="--import=..." it does.

import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'

const directory = process.env.CPU_PROFILE_DIR
if (!directory) throw new Error('cpu-profile.js needs CPU_PROFILE_DIR: the directory to write the profile to')
const session = new Session()
session.connect()
session.post('Profiler.enable')
session.post('Profiler.start')
process.once('exit', () => {
  // A session on this thread answers synchronously, so the profile is written before the exit.
  session.post('Profiler.stop', (error, result) => {
    if (error) process.stderr.write(`cpu profile of ${process.pid} not written: ${error.message}\n`)
    else writeFileSync(join(directory, `${process.pid}.cpuprofile`), JSON.stringify(result.profile))
  })
})
