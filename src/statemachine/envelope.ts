// A log entry of a session-aware state machine: which client sent the command, its sequence number,
// the proposer's clock, and the machine's encoded command.

import { protoCodec } from '../rpc/proto.js'

export interface SessionEnvelope {
  /** 0: no session (the command is never deduplicated). */
  clientId: number
  sequence: number
  timeMs: number
  command: Uint8Array
}

export const envelopeCodec = protoCodec<SessionEnvelope>('kv.proto', 'lograft.kv.SessionEnvelope')
