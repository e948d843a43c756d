// A replica group's snapshot encoding, produced piece by piece (StateEncoding): the group's head
// and every shard's status, transfer and sessions are encoded at the start (they are small), and
// each shard's data map streams through a KvStateEncoding. Of the group's commands only client
// operations and the data and operations chunks of an incoming shard change a data map in place;
// each first leaves the keys it touches with that shard's encoding. A chunk that restarts a
// transfer, and a deleted shard, leave the old map as it was, so it needs nothing.

import { KvStateEncoding } from '../kv/kv-state-encoding.js'
import { routingKey } from '../kv/kv-ops.js'
import type { StateEncoding } from '../statemachine/types.js'
import type { KeyToShard } from './config.js'
import { encodeGroupHead, shardSectionHead } from './group-codec.js'
import type { GroupCommand, GroupState } from './group-types.js'
import { encodeShardHead } from './shard-state.js'

/** Keys of a shard whose encoded length one piece measures, at most. */
const KEYS_MEASURED_PER_PIECE = 8192

interface ShardSection {
  readonly id: number
  readonly head: Uint8Array
  readonly data: KvStateEncoding
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
    this.sections = [...state.shards].map(([id, shard]) => ({ id, head: encodeShardHead(shard), data: new KvStateEncoding(shard.data), started: false }))
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
