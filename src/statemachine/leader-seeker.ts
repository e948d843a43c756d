// The one retry loop every clerk shares: try the servers of a replica group one after another,
// starting with the one that last answered, follow a leader hint when a server gives one, and
// remember who answered. A clerk runs rounds of it (pausing between them) until it gets an answer;
// the shard clerk also ends a round early when a group says the key is not its own any more.

/** What one server said to one attempt. */
export type Answer<T> =
  | { readonly kind: 'done'; readonly value: T }
  /** Not the leader, unreachable, lost or timed out: try another server (the hinted one first, if named). */
  | { readonly kind: 'retry'; readonly hint?: string }
  /** Trying this group's other servers cannot help (the shard moved): end the round. */
  | { readonly kind: 'stop' }

export type RoundResult<T> = { readonly kind: 'done'; readonly value: T } | { readonly kind: 'exhausted' } | { readonly kind: 'stopped' }

export class LeaderSeeker {
  /** The position, in the servers of the last round, of the one to try first. */
  private leader = 0

  /** Tries each of `servers` once at most, starting with the remembered leader. */
  async round<T>(servers: readonly string[], attempt: (server: string) => Promise<Answer<T>>): Promise<RoundResult<T>> {
    if (this.leader >= servers.length) this.leader = 0
    for (let tried = 0; tried < servers.length; tried++) {
      const answer = await attempt(servers[this.leader] as string)
      if (answer.kind === 'done') return answer
      if (answer.kind === 'stop') return { kind: 'stopped' }
      const hinted = answer.hint === undefined ? -1 : servers.indexOf(answer.hint)
      this.leader = hinted >= 0 && hinted !== this.leader ? hinted : (this.leader + 1) % servers.length
    }
    return { kind: 'exhausted' }
  }
}
