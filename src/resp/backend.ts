// The data side of the RESP endpoint. The server parses, checks arity and sizes, and runs connection
// commands itself; GET, SET, APPEND, DEL, EXISTS and INFO's data go to a KvBackend (for lograft, a
// replicated KV state machine). Calls from one connection never overlap: the server awaits each
// before starting the next, so a call should settle in bounded time (e.g. reject with TRYAGAIN
// when there is no leader) rather than wait indefinitely.

/** SET's options that the backend carries out (NX, XX, GET). */
export interface SetOptions {
  condition?: 'nx' | 'xx'
  returnOld?: boolean
}

/** INFO's data, by section: `{ Replication: { role: 'leader', term: 4 }, Keyspace: { db0: 'keys=2' } }`. */
export type KvInfoSections = Readonly<Record<string, Readonly<Record<string, string | number>>>>

/**
 * Keys and values are binary (Buffers). To reply with a particular RESP error (e.g. `-TRYAGAIN` when
 * there is no leader, `-MOVED` to redirect), throw a RespError; any other error is replied as
 * `-ERR <message>`. Either way the client's connection stays open.
 */
export interface KvBackend {
  /** The value at `key`, or null when there is none. */
  get(key: Buffer): Promise<Buffer | null>
  /** Stores `value` at `key`, replacing any value. The server has checked it against maxValueBytes. */
  set(key: Buffer, value: Buffer): Promise<void>
  /**
   * Appends `suffix` to the value at `key` (a missing key counts as empty) and resolves to the new
   * length in bytes. The server has checked `suffix` against maxValueBytes; bounding the resulting
   * length is the backend's, as only it knows the current one.
   */
  append(key: Buffer, suffix: Buffer): Promise<number>
  /**
   * Removes the keys; resolves to how many existed (a key named twice is removed, and counted, once).
   * A DEL of many keys arrives as several calls, each with a slice of them.
   */
  del(keys: Buffer[]): Promise<number>
  /**
   * SET with options: only if the key is missing (nx) or exists (xx), returning the value replaced
   * when `returnOld`. Resolves whether it wrote, and the old value (null if the key was missing or
   * `returnOld` was not asked for).
   */
  setWith(key: Buffer, value: Buffer, options: SetOptions): Promise<{ written: boolean; old: Buffer | null }>
  /** Deletes `key` and resolves to the value it had, or null if it had none. */
  getdel(key: Buffer): Promise<Buffer | null>
  /**
   * Adds `delta` to the integer at `key` (a missing key counts as 0) and resolves to the result;
   * throws RespError ERR when the value is not an integer or the sum leaves signed 64 bits.
   */
  incrBy(key: Buffer, delta: bigint): Promise<bigint>
  /** Resolves to how many of `keys` exist, counting a key named twice twice (as Redis does); many keys come in slices, as for del. */
  exists(keys: Buffer[]): Promise<number>
  /** The backend's INFO sections; the server adds its own Server and Clients sections. */
  info(): Promise<KvInfoSections>
}
