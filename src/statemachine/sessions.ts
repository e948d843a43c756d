// Client sessions for exactly-once execution: each client numbers its requests, and the table
// remembers the last sequence number and result per client, so a retried request gets the recorded
// result instead of running again. Sessions expire by log time (the proposer's clock carried in
// each entry) and by count, so every replica expires exactly the same ones.

import type { Codec } from './types.js'
import { BinaryReader, BinaryWriter } from '../base/bytes.js'

/**
 * How long exactly-once sessions are kept. A client retrying a request after its session is
 * forgotten may have it run twice, so keep sessions longer than any client retries.
 */
export interface SessionLimits {
  /** A session idle for this long in log time is forgotten. */
  ttlMs: number
  /** Beyond this many sessions, the least recently active are forgotten. */
  maxSessions: number
}

/** Sessions idle for an hour are forgotten, and beyond a million sessions the least recently active. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = { ttlMs: 60 * 60 * 1000, maxSessions: 1_000_000 }

interface Session<Result> {
  sequence: number
  result: Result
  lastActiveMs: number
}

export type SessionCheck<Result> =
  | { kind: 'new' }
  | { kind: 'duplicate'; result: Result }
  /** Older than the last request the client made: it has moved on and cannot be waiting for this. */
  | { kind: 'stale' }

export class SessionTable<Result> {
  /** Insertion order is activity order: the least recently active session comes first. */
  private readonly sessions = new Map<number, Session<Result>>()
  private logTimeMs = 0

  constructor(readonly limits: SessionLimits) {}

  get size(): number {
    return this.sessions.size
  }

  check(clientId: number, sequence: number): SessionCheck<Result> {
    const session = this.sessions.get(clientId)
    if (!session || sequence > session.sequence) return { kind: 'new' }
    if (sequence === session.sequence) return { kind: 'duplicate', result: session.result }
    return { kind: 'stale' }
  }

  record(clientId: number, sequence: number, result: Result, timeMs: number): void {
    this.advanceTime(timeMs)
    this.sessions.delete(clientId)
    this.sessions.set(clientId, { sequence, result, lastActiveMs: this.logTimeMs })
    this.expire()
  }

  /** Log time only moves forward, whatever the proposers' clocks do. */
  advanceTime(timeMs: number): void {
    if (timeMs > this.logTimeMs) this.logTimeMs = timeMs
  }

  private expire(): void {
    for (const [clientId, session] of this.sessions) {
      const idle = session.lastActiveMs < this.logTimeMs - this.limits.ttlMs
      if (!idle && this.sessions.size <= this.limits.maxSessions) break
      this.sessions.delete(clientId)
    }
  }

  encode(resultCodec: Codec<Result>): Uint8Array {
    const writer = new BinaryWriter().uint64(this.logTimeMs).uint32(this.sessions.size)
    for (const [clientId, session] of this.sessions) {
      writer.uint64(clientId).uint64(session.sequence).uint64(session.lastActiveMs).bytes(resultCodec.encode(session.result))
    }
    return writer.finish()
  }

  static decode<Result>(bytes: Uint8Array, resultCodec: Codec<Result>, limits: SessionLimits): SessionTable<Result> {
    const table = new SessionTable<Result>(limits)
    const reader = new BinaryReader(bytes)
    table.logTimeMs = reader.uint64()
    const count = reader.uint32()
    for (let i = 0; i < count; i++) {
      const clientId = reader.uint64()
      const sequence = reader.uint64()
      const lastActiveMs = reader.uint64()
      const result = resultCodec.decode(reader.bytes())
      table.sessions.set(clientId, { sequence, result, lastActiveMs })
    }
    return table
  }
}
