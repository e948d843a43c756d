// The KV map's snapshot encoding, produced piece by piece: a count, then each key and value with a
// uint32 length before it. The keys are listed when the encoding begins (listing is cheap; encoding
// every value is not), and a command about to change a key first leaves the key's value with the
// encoding, so pieces encoded later still hold the map as it was at the start.

import { assert } from '../base/assert.js'
import type { KvCommand, KvState } from './types.js'
import type { StateEncoding } from '../statemachine/types.js'

const COUNT_BYTES = 4
const LENGTH_BYTES = 4

export class KvStateEncoding implements StateEncoding<KvCommand> {
  private readonly keys: string[]
  /** Values as they were at the start (undefined: absent) of keys changed since. */
  private readonly before = new Map<string, string | undefined>()
  private position = 0
  private countWritten = false

  constructor(private readonly state: KvState) {
    this.keys = [...state.keys()]
  }

  /** The length of the whole encoding (as of the start, like every piece). */
  totalBytes(): number {
    let size = COUNT_BYTES
    for (const key of this.keys) size += 2 * LENGTH_BYTES + key.length + this.valueAtStart(key).length
    return size
  }

  preserve(command: KvCommand): void {
    if (command.op === 'get' || this.before.has(command.key)) return
    this.before.set(command.key, this.state.get(command.key))
  }

  next(budgetBytes: number): Uint8Array | null {
    if (this.countWritten && this.position === this.keys.length) return null
    const values: string[] = []
    let size = this.countWritten ? 0 : COUNT_BYTES
    for (let i = this.position; i < this.keys.length && (values.length === 0 || size < budgetBytes); i++) {
      const key = this.keys[i] as string
      const value = this.valueAtStart(key)
      values.push(value)
      size += 2 * LENGTH_BYTES + key.length + value.length
    }
    const piece = Buffer.allocUnsafe(size)
    let offset = 0
    if (!this.countWritten) {
      offset = piece.writeUInt32BE(this.keys.length, 0)
      this.countWritten = true
    }
    for (const value of values) {
      const key = this.keys[this.position++] as string
      offset = piece.writeUInt32BE(key.length, offset)
      offset += piece.write(key, offset, 'latin1')
      offset = piece.writeUInt32BE(value.length, offset)
      offset += piece.write(value, offset, 'latin1')
    }
    assert(offset === size, () => `KV state piece encoded to ${offset} bytes, expected ${size}`)
    return piece
  }

  private valueAtStart(key: string): string {
    const value = this.before.has(key) ? this.before.get(key) : this.state.get(key)
    assert(value !== undefined, () => `key ${JSON.stringify(key.slice(0, 64))} was listed but has no value`)
    return value
  }
}
