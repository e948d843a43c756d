// A replica group's snapshot encoding, produced piece by piece (StateEncoding): the group's head
// and every shard's status, transfer and sessions are encoded at the start (they are small), and
// each shard's data map streams through a KvStateEncoding. Of the group's commands only client
// operations and the data and operations chunks of an incoming shard change a data map in place;
// each first leaves the keys it touches with that shard's encoding. A chunk that restarts a
// transfer, and a deleted shard, leave the old map as it was, so it needs nothing.
//
// A shard being pulled that holds exactly the entries its transfer received is not encoded key by
// key: its section is the head of a KV state and those entries copied as they arrived, which are
// the same bytes (keys in the order they arrived, each as writeEntry writes it).

import { assert } from '../base/assert.js'
import { KvStateEncoding, kvStateHead } from '../kv/kv-state-encoding.js'
import { routingKey } from '../kv/kv-ops.js'
import type { StateEncoding } from '../statemachine/types.js'
import type { KeyToShard } from './config.js'
import { encodeGroupHead, shardSectionHead } from './group-codec.js'
import type { GroupCommand, GroupState } from './group-types.js'
import { type ArrivedEntries, type ShardState, encodeShardHead } from './shard-state.js'

/** Keys of a shard whose encoded length one piece measures, at most. */
const KEYS_MEASURED_PER_PIECE = 8192

/** What a section's data streams through. */
type SectionData = Pick<KvStateEncoding, 'measure' | 'next' | 'preserve' | 'preserveKeys'>

/** A pulling shard's data as the entries its transfer received, copied as they arrived. */
class ArrivedEntriesEncoding implements SectionData {
  private readonly pieces: Uint8Array[]
  private readonly head: Uint8Array
  private headGiven = false

  constructor(clockMs: number, arrived: ArrivedEntries) {
    // Taken now: later chunks add pieces to the transfer, not to this snapshot.
    this.pieces = [...arrived.pieces]
    this.head = kvStateHead(clockMs, arrived.count)
  }

  measure(): number {
    let size = this.head.length
    for (const piece of this.pieces) size += piece.length
    return size
  }

  next(budgetBytes: number): Uint8Array | null {
    const parts: Uint8Array[] = []
    let size = 0
    if (!this.headGiven) {
      parts.push(this.head)
      size += this.head.length
      this.headGiven = true
    }
    while (this.pieces.length > 0 && (parts.length === 0 || size < budgetBytes)) {
      const piece = this.pieces.shift() as Uint8Array
      parts.push(piece)
      size += piece.length
    }
    return parts.length === 0 ? null : Buffer.concat(parts)
  }

  // The pieces never change, whatever the commands applied after the snapshot began.
  preserve(): void {}

  preserveKeys(): void {}
}

function sectionData(shard: ShardState): SectionData {
  const arrived = shard.status === 'pulling' ? shard.transfer?.arrived : null
  if (!arrived) return new KvStateEncoding(shard.data)
  assert(arrived.count === shard.data.size, () => `a pulling shard holds ${shard.data.size} keys but its transfer received ${arrived.count}`)
  return new ArrivedEntriesEncoding(shard.data.clockMs, arrived)
}

interface ShardSection {
  readonly id: number
  readonly head: Uint8Array
  readonly data: SectionData
  started: boolean
}

export class GroupStateEncoding implements StateEncoding<GroupCommand> {
  private groupHead: Uint8Array | null
  private readonly sections: ShardSection[]
  private readonly sectionById: Map<number, ShardSection>
  private current = 0

  constructor(
    state: GroupState,
    private readonly keyToShard: KeyToShard,
    private readonly shardCount: number,
  ) {
    this.groupHead = encodeGroupHead(state)
    this.sections = [...state.shards].map(([id, shard]) => ({ id, head: encodeShardHead(shard), data: sectionData(shard), started: false }))
    this.sectionById = new Map(this.sections.map((section) => [section.id, section]))
  }

  preserve(command: GroupCommand): void {
    switch (command.kind) {
      case 'op':
        this.sectionById.get(this.keyToShard(routingKey(command.command), this.shardCount))?.data.preserve(command.command)
        return
      case 'chunk': {
        const section = this.sectionById.get(command.shard)
        const payload = command.payload
        if (!section) return
        if (payload.kind === 'data') section.data.preserveKeys(payload.entries.map(([key]) => key))
        if (payload.kind === 'entries') section.data.preserveKeys(payload.entries.map((entry) => entry.key))
        if (payload.kind === 'ops') for (const operation of payload.operations) section.data.preserve(operation.command)
        return
      }
      case 'config':
      case 'delete':
      case 'gc-done':
        return
    }
  }

  next(budgetBytes: number): Uint8Array | null {
    const parts: Uint8Array[] = []
    let size = 0
    const add = (part: Uint8Array): void => {
      parts.push(part)
      size += part.length
    }
    if (this.groupHead) {
      add(this.groupHead)
      this.groupHead = null
    }
    while (size < budgetBytes) {
      const section = this.sections[this.current]
      if (!section) break
      if (!section.started) {
        // A section begins with its length: a big shard's is measured over several pieces, which
        // then carry less or nothing, so that no piece takes long to make.
        const dataBytes = section.data.measure(KEYS_MEASURED_PER_PIECE)
        if (dataBytes === null) return Buffer.concat(parts)
        section.started = true
        add(shardSectionHead(section.id, section.head, dataBytes))
      }
      const piece = section.data.next(budgetBytes - size)
      if (piece === null) this.current++
      else add(piece)
    }
    return parts.length === 0 ? null : Buffer.concat(parts)
  }
}
