// The KV machine's vocabulary: its commands, results and state, apart from the machine itself so
// that its codecs and encodings can name them without importing it.

export type KvOp = 'get' | 'put' | 'append' | 'delete'

export interface KvCommand {
  op: KvOp
  key: string
  value: string
}

export interface KvResult {
  /** Get: the value ('' if missing). Append: the old value, in the 'old-value' flavour. */
  value: string
  /** Whether the key existed before the command. */
  found: boolean
  /** The value's length after the command. */
  length: number
}

export type KvState = Map<string, string>
