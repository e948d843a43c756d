// The data side of the RESP endpoint. The server parses, checks arity and sizes, turns each Redis data
// command into one KV command (kv-commands.ts), and runs connection commands itself; the KV command
// goes to a KvBackend (for lograft, the replicated KV state machine, or the sharded KV's groups).
// Calls from one connection never overlap: the server awaits each before starting the next, so a
// call should settle in bounded time (e.g. reject with TRYAGAIN when there is no leader) rather
// than wait indefinitely.

import type { KvCommand, KvResult } from '../kv/types.js'

/** INFO's data, by section: `{ Replication: { role: 'leader', term: 4 }, Keyspace: { db0: 'keys=2' } }`. */
export type KvInfoSections = Readonly<Record<string, Readonly<Record<string, string | number>>>>

/**
 * Runs KV commands for the RESP endpoint. To reply with a particular RESP error (e.g. `-TRYAGAIN`
 * when there is no leader, `-CROSSSLOT` for keys of several shards), throw a RespError; any other
 * error is replied as `-ERR <message>`. A command that ran but refused (WRONGTYPE, not an integer)
 * resolves with a result whose `error` says so. Either way the client's connection stays open.
 */
export interface KvBackend {
  /** Runs one command: a write through the log exactly once, a read linearizably. */
  execute(command: KvCommand): Promise<KvResult>
  /**
   * Optional: runs commands one after another as one step (for lograft, one log entry, or one
   * linearizable read when all of them read), resolving to each one's result. The server then sends
   * a client's pipelined commands together, so a pipeline costs one round of replication, not one
   * per command; without it they run one at a time.
   */
  executeBatch?(commands: KvCommand[]): Promise<KvResult[]>
  /** The backend's INFO sections; the server adds its own Server and Clients sections. */
  info(): Promise<KvInfoSections>
  /** Optional: CONFIG RESETSTAT, which starts the statistics INFO reports over (e.g. the longest event-loop stall). */
  resetStats?(): void
}
