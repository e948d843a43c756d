// The KV model's operations as histories record them, apart from the model so that partitioning
// by key can name them without importing it.

/** A KV operation as a history records it. */
export interface KvInput {
  readonly op: 'get' | 'put' | 'append' | 'delete' | 'incr' | 'multi'
  readonly key: string
  /** The value to put or append, the decimal delta to incr by; ignored by get, delete and multi. */
  readonly value: string
  /** Put only if the key is missing (nx) or exists (xx): Redis's SET NX and SET XX. */
  readonly condition?: 'nx' | 'xx'
  /** Put returns the value it replaced (SET ... GET): the output's value and found. */
  readonly returnOld?: boolean
  /** Put gives the key this time to live (SET ... PX): it expires by log time, at least this long after the call. */
  readonly ttlMs?: number
  /** Put keeps the key's time to live (SET ... KEEPTTL). */
  readonly keepTtl?: boolean
  /** When the operation was called (needed with ttlMs: the earliest its deadline can be). */
  readonly calledAtMs?: number
  /** A transaction's operations, all on `key`, applied as one. */
  readonly commands?: readonly KvInput[]
}

/** What get returns (missing key = ''), and what append returns when it returns the old value. */
export interface KvOutput {
  readonly value: string
  /** What append returns when it returns the new length (as Redis's APPEND and lograft's KV do). */
  readonly length?: number
  /** Set when an incr was refused (the value is not an integer, or the sum leaves 64 bits). */
  readonly error?: string
  /** Whether the key existed (get, put, delete): when recorded, a missing key and an empty value differ. */
  readonly found?: boolean
  /** When the operation returned (needed to judge a key seen expired: not before its deadline). */
  readonly returnedAtMs?: number
  /** A transaction's outputs, one per operation. */
  readonly results?: readonly KvOutput[]
}
