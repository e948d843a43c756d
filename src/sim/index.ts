// Public surface of the deterministic simulation toolkit (import from 'lograft/sim').
export { type Clock, type TimerHandle, systemClock, sleep } from '../base/clock.js'
export { Rng } from '../base/rng.js'
export { VirtualClock, SimulationStalledError, SimulationTimeLimitError, drainMicrotasks, type RunLimits } from './virtual-clock.js'
export { seedsFor, stableSeed, SeedConfigError, type SeedEnvironment } from './seeds.js'
export { SimWorld, type SimWorldOptions, type NodeAttachment } from './world.js'
export { SimNetwork, SimServer, SimClientEnd, type SimEvent, type SimEventKind, type SimNetworkOptions } from '../rpc/sim-network.js'
export { SimTransport, type SimTransportOptions } from '../rpc/sim-transport.js'
