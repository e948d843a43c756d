// Public surface for testing with lograft (import from 'lograft/testing'): a simulated cluster of
// your own machine with clerks and a fault schedule, seeded simulation tests, the linearizability
// checker with your own model, the harnesses of the MIT 6.5840 labs, a throwaway CA for TLS, and
// the conformance suites a LogStore backend or a Transport must pass.
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
export { type ConformanceHost } from './conformance-host.js'
export { logStoreConformance, type LogStoreConformanceOptions, type LogStoreLocation } from './log-store-conformance.js'
export { transportConformance, type ConformanceNetwork, type TransportConformanceOptions } from './transport-conformance.js'
