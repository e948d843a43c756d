// The KV machine's vocabulary: its commands and results, apart from the machine itself so that its
// codecs, encodings and the RESP endpoint can name them without importing it.

/**
 * The KV machine's operations, Redis's string, key and hash commands as one logged (or read) step
 * each. Reads (never logged): get, mget, exists, strlen's get, getrange, ttl, type, dbsize, keys,
 * scan, fingerprint, hget, hmget, hgetall, hlen, hexists.
 */
export type KvOp =
  | 'get'
  | 'put'
  | 'append'
  | 'delete'
  | 'incr'
  | 'incrbyfloat'
  | 'getdel'
  | 'getex'
  | 'getrange'
  | 'setrange'
  | 'mget'
  | 'mset'
  | 'exists'
  | 'expire'
  | 'persist'
  | 'ttl'
  | 'type'
  | 'dbsize'
  | 'keys'
  | 'scan'
  | 'flush'
  | 'multi'
  | 'fingerprint'
  | 'purge'
  | 'hset'
  | 'hget'
  | 'hmget'
  | 'hdel'
  | 'hgetall'
  | 'hincrby'
  | 'hlen'
  | 'hexists'

/**
 * A time to live given with a write: `in` ms after the entry's log time, `at` a log time in ms since
 * the epoch, `keep` the key's present one (SET KEEPTTL), `persist` none (GETEX PERSIST).
 */
export type KvExpiry = { kind: 'in'; ms: number } | { kind: 'at'; ms: number } | { kind: 'keep' } | { kind: 'persist' }

/** A key a transaction watched, with its fingerprint (op 'fingerprint') when watched: EXEC runs only if it is unchanged. */
export interface KvWatch {
  key: string
  fingerprint: string
}

/**
 * One operation on the KV store. Keys, fields and values are binary strings (one character per
 * byte). Which fields an op reads is documented with the op in kv-ops.ts; unused ones are absent.
 */
export interface KvCommand {
  op: KvOp
  /** The key (the first key of a multi-key op; '' for keyless ones). */
  key: string
  /**
   * The value to put or append, the decimal delta to incr by, the pattern of keys; for getex, the
   * error its options drew (Redis reports it only if the key exists); '' when unused.
   */
  value: string
  /**
   * Put only if the key is missing (nx) or exists (xx); expire only if it has no TTL (nx), has one
   * (xx), the new one is later (gt: a key without one counts as never expiring) or earlier (lt; xx-lt:
   * and it has one).
   */
  condition?: 'nx' | 'xx' | 'gt' | 'lt' | 'xx-lt'
  /** Put returns the value it replaced (Redis's SET ... GET). */
  returnOld?: boolean
  /** The time to live a put, getex or expire gives the key. */
  expiry?: KvExpiry
  /** The keys after `key` of a multi-key op (mget, mset, delete, exists, purge). */
  keys?: string[]
  /** Mset: a value per key (key first, then keys); hset: a value per field. */
  values?: string[]
  /** The hash fields of a hash op. */
  fields?: string[]
  /** Getrange's start, setrange's offset, scan's cursor. */
  start?: number
  /** Getrange's end, scan's count. */
  end?: number
  /** Scan: only keys holding this type ('string', 'hash'). */
  type?: string
  /** A transaction's commands, applied in order as one entry (op 'multi'). */
  commands?: KvCommand[]
  /** A transaction's watched keys: if any changed since, nothing runs. */
  watches?: KvWatch[]
}

/** What a KV command returned. */
export interface KvResult {
  /** Get: the value ('' if missing). Append: the old value, in the 'old-value' flavour. Incr: the new value. */
  value: string
  /** Whether the key existed before the command. */
  found: boolean
  /** The value's length after the command. */
  length: number
  /** Why the command changed nothing, in Redis's words with its code first ("ERR ...", "WRONGTYPE ..."); absent when it ran. */
  error?: string
  /** The command's integer answer where it has one: keys deleted, fields added, ms to live, scan's next cursor. */
  integer?: number
  /** The values of a multi-value answer (mget, hmget: null where missing; keys, scan, hgetall: never null). */
  values?: Array<string | null>
  /** A transaction's results, one per command; absent when a watched key had changed (nothing ran). */
  results?: KvResult[]
}
