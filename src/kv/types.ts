// The KV machine's vocabulary: its commands, results and state, apart from the machine itself so
// that its codecs and encodings can name them without importing it.

/**
 * The KV machine's operations. incr adds `value` (a decimal integer) to the key's integer value;
 * getdel deletes the key and returns the value it had.
 */
export type KvOp = 'get' | 'put' | 'append' | 'delete' | 'incr' | 'getdel'

/** One operation on the KV store. Keys and values are binary strings (one character per byte). */
export interface KvCommand {
  op: KvOp
  key: string
  /** The value to put or append, the decimal delta to incr by; '' for get and delete. */
  value: string
  /** Put only if the key is missing (nx) or only if it exists (xx): Redis's SET NX and SET XX. */
  condition?: 'nx' | 'xx'
  /** Put returns the value it replaced (Redis's SET ... GET). */
  returnOld?: boolean
}

/** What a KV command returned. */
export interface KvResult {
  /** Get: the value ('' if missing). Append: the old value, in the 'old-value' flavour. */
  value: string
  /** Whether the key existed before the command. */
  found: boolean
  /** The value's length after the command. */
  length: number
  /** Why the command changed nothing (incr of a value that is not an integer, or past 64 bits); absent when it ran. */
  error?: string
}

/** The KV machine's state: every key with its value. */
export type KvState = Map<string, string>
