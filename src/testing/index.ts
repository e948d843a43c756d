/**
 * Testing with lograft: a simulated cluster of your own machine with clerks and a fault schedule
 * ({@link MachineCluster}, {@link startNemesis}), seeded simulation tests ({@link simTest}), the
 * linearizability checker with your own model ({@link checkOperations}), the harnesses of the MIT
 * 6.5840 labs, a real cluster of local `lograft node` processes for crash tests
 * ({@link LocalMachineCluster}), a throwaway CA for TLS ({@link createTestPki}), and the conformance suites a LogStore backend
 * or a Transport must pass ({@link logStoreConformance}, {@link transportConformance}).
 *
 * The simulated harnesses run on a SimWorld from `lograft/sim`: the same seed, the same run.
 *
 * @module lograft/testing
 */
export { MachineCluster, type MachineClusterOptions } from './machine-cluster.js'
export { ReplicaGroup, type ReplicaGroupOptions, type RunningReplica } from './replica-group.js'
export { startNemesis, type Nemesis, type NemesisOptions } from './nemesis.js'
export { simTest, seededTest, type SimTestOptions, type SeededTestHost, type SeededSubtest } from './sim-test.js'
export { RaftCluster, ClusterCheckError, encodeCommand, decodeCommand, type LabCommand, type RaftClusterOptions } from './raft-cluster.js'
export { KvCluster, type KvClusterOptions } from './kv-cluster.js'
export * from './linearizability/index.js'
export { LocalMachineCluster, type LocalMachineClusterOptions, type LocalMachineNode } from './local-machine-cluster.js'
export { ProcessSupervisor, NodeStartError, type ProcessSpec, type ExitListener } from './process-supervisor.js'
export { freePortBlock, NoFreePortsError } from './ports.js'
export { createTestPki, issueCertificate, type IssuedCertificate, type TestPki, type TestPkiOptions } from './pki.js'
export { MembershipTimeoutError } from './membership-driver.js'
export { type ConformanceHost } from './conformance-host.js'
export { logStoreConformance, type LogStoreConformanceOptions, type LogStoreLocation } from './log-store-conformance.js'
export { transportConformance, type ConformanceNetwork, type TransportConformanceOptions } from './transport-conformance.js'
