// What bench/kv.ts drives, the same for every system under test: a cluster of member processes
// and client connections to them.

/** One client connection; each call resolves once the system answered. */
export interface KvClient {
  /** The value stored at `key`, or null if it has none. */
  get(key: string): Promise<Uint8Array | null>
  /** Resolves once the system acknowledged the write. */
  set(key: string, value: Buffer): Promise<void>
  close(): Promise<void>
}

/** A running cluster under test, whose members are numbered 0..memberCount-1. */
export interface KvSystem {
  readonly name: string
  readonly memberCount: number
  /** The operating-system process id of each member, by member number: whose CPU time to read. */
  readonly memberPids: readonly number[]
  /** The member that leads now. */
  leader(): Promise<number>
  connect(member: number): Promise<KvClient>
  stop(): Promise<void>
}
