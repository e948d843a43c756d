// One connection's commands received and waiting to run, in order, with the bytes they hold, so
// the connection can stop reading when too many or too large ones wait.

import { assert } from '../base/assert.js'
import type { RespReply } from './reply.js'
import { commandHeldBytes } from './parser.js'
import type { LogFields } from '../base/logger.js'

/**
 * A command to run, or the end of the connection: an error to reply after the replies owed (to a
 * protocol error, an input bound exceeded, a command too slow to arrive), then a close, logged.
 */
export type QueuedItem =
  | { readonly kind: 'command'; readonly args: Buffer[]; readonly heldBytes: number }
  | { readonly kind: 'close'; readonly reply: RespReply; readonly reason: string; readonly fields: LogFields }

/** Consumed items are dropped once there are this many and they are at least half the queue. */
const COMPACT_AFTER_ITEMS = 1024

export class CommandQueue {
  /** Waiting items are items[head..]; consumed ones are dropped in batches, not shifted one by one. */
  private items: QueuedItem[] = []
  private head = 0
  private waitingBytes = 0

  get length(): number {
    return this.items.length - this.head
  }

  /** The bytes the waiting commands hold (commandHeldBytes of each). */
  get heldBytes(): number {
    return this.waitingBytes
  }

  pushCommand(args: Buffer[]): void {
    const heldBytes = commandHeldBytes(args)
    this.items.push({ kind: 'command', args, heldBytes })
    this.waitingBytes += heldBytes
  }

  pushClose(reply: RespReply, reason: string, fields: LogFields = {}): void {
    this.items.push({ kind: 'close', reply, reason, fields })
  }

  /** The next item, left in the queue. */
  peek(): QueuedItem | undefined {
    return this.items[this.head]
  }

  shift(): QueuedItem | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head++]
    assert(item !== undefined, 'a queued item below the queue length')
    if (item.kind === 'command') this.waitingBytes -= item.heldBytes
    this.compact()
    return item
  }

  clear(): void {
    this.items = []
    this.head = 0
    this.waitingBytes = 0
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= COMPACT_AFTER_ITEMS && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }
}
