// lograft's public API.
export * from './log/index.js'
export * from './rpc/index.js'
export { type Clock, systemClock, sleep } from './sim/clock.js'
export { Rng } from './sim/rng.js'
export { type Logger, stderrLogger, silentLogger, MemoryLogger } from './util/logger.js'
export * from './raft/index.js'
