// Linearizable reads on a follower (§6.4 of the Raft thesis): the follower asks the leader for a
// read point; the leader confirms it still leads with a heartbeat round and answers with its commit
// index; the follower serves the read once it has applied that far. So read load spreads over the
// members, and the leader does one round's work instead of running every read. One ask is in flight
// at a time and every read that arrives meanwhile shares the next, as the leader's rounds do.

export class ForwardedReads {
  private asked: number[] | null = null
  private waiting: number[] = []

  /** Keeps read `id` for the next ask. */
  add(id: number): void {
    this.waiting.push(id)
  }

  /** The reads to ask the leader for now, or null while an ask is in flight (or none wait). */
  takeAsk(): number[] | null {
    if (this.asked !== null || this.waiting.length === 0) return null
    this.asked = this.waiting
    this.waiting = []
    return this.asked
  }

  /** The ask in flight was answered or failed: its reads, to settle. */
  finishAsk(): number[] {
    const asked = this.asked ?? []
    this.asked = null
    return asked
  }
}
