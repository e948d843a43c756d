// The KV model's operations as histories record them, apart from the model so that partitioning
// by key can name them without importing it.

/** A KV operation as a history records it. */
export interface KvInput {
  readonly op: 'get' | 'put' | 'append' | 'delete' | 'incr'
  readonly key: string
  /** The value to put or append, the decimal delta to incr by; ignored by get and delete. */
  readonly value: string
}

/** What get returns (missing key = ''), and what append returns when it returns the old value. */
export interface KvOutput {
  readonly value: string
  /** What append returns when it returns the new length (as Redis's APPEND and lograft's KV do). */
  readonly length?: number
  /** Set when an incr was refused (the value is not an integer, or the sum leaves 64 bits). */
  readonly error?: string
}
