// Public surface for testing with lograft (import from 'lograft/testing'): simulated clusters in
// the style of the MIT 6.5840 harnesses, and the linearizability checker.
export { RaftCluster, ClusterCheckError, encodeCommand, decodeCommand, type LabCommand, type RaftClusterOptions } from './raft-cluster.js'
export { KvCluster, type KvClusterOptions } from './kv-cluster.js'
export * from './linearizability/index.js'
export { createTestPki, issueCertificate, type IssuedCertificate, type TestPki, type TestPkiOptions } from './pki.js'
