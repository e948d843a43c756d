/**
 * Deterministic simulation: a virtual clock, a seeded RNG and a simulated network with the fault
 * model of MIT 6.5840's labrpc, on which whole clusters run in one process. A run depends only on
 * its seed, never on real time, so a failure found with one seed replays exactly with that seed.
 *
 * Start from {@link SimWorld}. Seeded test runners and cluster harnesses built on it are in
 * `lograft/testing`.
 *
 * @module lograft/sim
 */
export { type Clock, type TimerHandle, systemClock, sleep } from '../base/clock.js'
export { Rng } from '../base/rng.js'
export { VirtualClock, SimulationStalledError, SimulationTimeLimitError, drainMicrotasks, type RunLimits } from './virtual-clock.js'
export { seedsFor, stableSeed, SeedConfigError, type SeedEnvironment } from './seeds.js'
export { SimWorld, type SimWorldOptions, type NodeAttachment } from './world.js'
export { SimNetwork, SimServer, SimClientEnd, type SimEvent, type SimEventKind, type SimNetworkOptions } from '../rpc/sim-network.js'
export { SimTransport, type SimTransportOptions } from '../rpc/sim-transport.js'
