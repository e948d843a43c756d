// A cluster's configuration — its voters and learners, each with the address peers reach it at —
// and the single-server changes to it. Pure: the configuration lives in the log (entries of type
// Configuration) and in every snapshot, and each server uses the latest one in its log, committed
// or not (Raft dissertation §4.1).
//
// Why one server at a time rather than joint consensus: any two configurations that differ by one
// voter have overlapping majorities, so no two leaders can be elected for one term across the
// change, with no intermediate joint configuration to get right (etcd's ConfChange v1 and
// hashicorp/raft make the same choice). The price is the known bug of the single-server scheme (a
// change proposed by a leader that has not yet committed an entry of its own term can lose an
// earlier leader's uncommitted change); the rule that fixes it is kept by RaftCore: a leader
// commits an entry of its term before it proposes a change, and only one change is in flight.

/** A server of the cluster, voter or learner. */
export interface Member {
  readonly id: string
  /** Where peers reach it ("host:port"); empty in simulation, where ids are addresses. */
  readonly address: string
  /** A learner the leader promotes to voter on its own once it has caught up. */
  readonly promoteWhenCaughtUp: boolean
}

/**
 * A cluster's members: the voters, which elect the leader and whose majority commits entries, and
 * the learners, which receive the log but neither vote nor count toward a quorum.
 */
export interface Configuration {
  readonly voters: readonly Member[]
  readonly learners: readonly Member[]
}

export const EMPTY_CONFIGURATION: Configuration = Object.freeze({ voters: [], learners: [] })

/**
 * One single-server change to a Configuration, as RaftNode.changeMembership takes it (addLearner,
 * promote, removeServer and changeAddress make one each).
 */
export type MembershipChange =
  | { readonly kind: 'addLearner'; readonly id: string; readonly address: string; readonly promoteWhenCaughtUp: boolean }
  | { readonly kind: 'promote'; readonly id: string }
  | { readonly kind: 'remove'; readonly id: string }
  | { readonly kind: 'changeAddress'; readonly id: string; readonly address: string }

/** Configuration entries' bytes to a Configuration; injected into the core, which does no decoding I/O of its own. */
export type ConfigurationDecoder = (bytes: Uint8Array) => Configuration

export function configurationOf(voters: readonly string[], addresses: Readonly<Record<string, string>> = {}): Configuration {
  return { voters: voters.map((id) => ({ id, address: addresses[id] ?? '', promoteWhenCaughtUp: false })), learners: [] }
}

export function isVoter(configuration: Configuration, id: string): boolean {
  return configuration.voters.some((member) => member.id === id)
}

export function isLearner(configuration: Configuration, id: string): boolean {
  return configuration.learners.some((member) => member.id === id)
}

export function memberOf(configuration: Configuration, id: string): Member | undefined {
  return configuration.voters.find((member) => member.id === id) ?? configuration.learners.find((member) => member.id === id)
}

/** Every member, voters first. */
export function allMembers(configuration: Configuration): readonly Member[] {
  return [...configuration.voters, ...configuration.learners]
}

/** The configuration after `change`, or why the change cannot be made. */
export function applyChange(configuration: Configuration, change: MembershipChange): Configuration | string {
  const existing = memberOf(configuration, change.id)
  switch (change.kind) {
    case 'addLearner': {
      if (existing) return `${change.id} is already a ${isVoter(configuration, change.id) ? 'voter' : 'learner'}`
      const taken = allMembers(configuration).find((member) => member.address !== '' && member.address === change.address)
      if (taken) return `address ${change.address} is already ${taken.id}'s`
      const learner: Member = { id: change.id, address: change.address, promoteWhenCaughtUp: change.promoteWhenCaughtUp }
      return { voters: configuration.voters, learners: [...configuration.learners, learner] }
    }
    case 'promote': {
      if (!existing) return `${change.id} is not a member`
      if (isVoter(configuration, change.id)) return `${change.id} is already a voter`
      return {
        voters: [...configuration.voters, { ...existing, promoteWhenCaughtUp: false }],
        learners: configuration.learners.filter((member) => member.id !== change.id),
      }
    }
    case 'remove': {
      if (!existing) return `${change.id} is not a member`
      if (isVoter(configuration, change.id) && configuration.voters.length === 1) return `${change.id} is the last voter`
      return {
        voters: configuration.voters.filter((member) => member.id !== change.id),
        learners: configuration.learners.filter((member) => member.id !== change.id),
      }
    }
    case 'changeAddress': {
      if (!existing) return `${change.id} is not a member`
      const taken = allMembers(configuration).find((member) => member.id !== change.id && member.address === change.address)
      if (taken) return `address ${change.address} is already ${taken.id}'s`
      const moved = (member: Member): Member => (member.id === change.id ? { ...member, address: change.address } : member)
      return { voters: configuration.voters.map(moved), learners: configuration.learners.map(moved) }
    }
  }
}

/**
 * Whether `configuration` already shows `change` made: how a retry of a change whose first attempt
 * committed unseen (its leader crashed before answering) knows it is done.
 */
export function changeInEffect(configuration: Configuration, change: MembershipChange): boolean {
  const existing = memberOf(configuration, change.id)
  switch (change.kind) {
    case 'addLearner':
      return existing?.address === change.address
    case 'promote':
      return isVoter(configuration, change.id)
    case 'remove':
      return existing === undefined
    case 'changeAddress':
      return existing?.address === change.address
  }
}

/** A change described for people: "add learner n4 at 127.0.0.1:7104". */
export function describeChange(change: MembershipChange): string {
  switch (change.kind) {
    case 'addLearner':
      return `add learner ${change.id} at ${change.address}`
    case 'promote':
      return `promote ${change.id}`
    case 'remove':
      return `remove ${change.id}`
    case 'changeAddress':
      return `move ${change.id} to ${change.address}`
  }
}

/** The configurations a log holds: the base (snapshot or bootstrap) and each Configuration entry after it. */
export class ConfigurationHistory {
  private base: { index: number; configuration: Configuration }
  private readonly changes: Array<{ index: number; configuration: Configuration }> = []

  constructor(baseIndex: number, base: Configuration) {
    this.base = { index: baseIndex, configuration: base }
  }

  /** The latest configuration in the log, committed or not: the one a server uses. */
  get latest(): Configuration {
    return (this.changes[this.changes.length - 1] ?? this.base).configuration
  }

  /** The index of the entry holding the latest configuration (the base's index if none). */
  get latestIndex(): number {
    return (this.changes[this.changes.length - 1] ?? this.base).index
  }

  /** The configuration in force at `index`: the latest whose entry is at or before it. */
  at(index: number): Configuration {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      const change = this.changes[i] as { index: number; configuration: Configuration }
      if (change.index <= index) return change.configuration
    }
    return this.base.configuration
  }

  append(index: number, configuration: Configuration): void {
    this.changes.push({ index, configuration })
  }

  /** The log lost its entries from `index` on: so do the configurations they held. */
  truncateFrom(index: number): void {
    while (this.changes.length > 0 && (this.changes[this.changes.length - 1] as { index: number }).index >= index) this.changes.pop()
  }

  /** A snapshot through `index` replaced the log before it. */
  compact(index: number): void {
    const covered = this.at(index)
    while (this.changes.length > 0 && (this.changes[0] as { index: number }).index <= index) this.changes.shift()
    this.base = { index, configuration: covered }
  }

  /** A leader's snapshot through `index`, holding `configuration`, replaced the whole log. */
  restore(index: number, configuration: Configuration, keepAfter: boolean): void {
    if (!keepAfter) this.changes.length = 0
    else while (this.changes.length > 0 && (this.changes[0] as { index: number }).index <= index) this.changes.shift()
    this.base = { index, configuration }
  }
}
