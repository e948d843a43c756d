// Small RESP helpers for the CLI's demos: a reply as text, and a server's INFO fields.

import { RespClient } from '../resp/client.js'
import type { RespReply } from '../resp/reply.js'

const INFO_TIMEOUT_MS = 1000

export class RespErrorReply extends Error {
  readonly code = 'ERR_RESP_ERROR_REPLY'
  constructor(readonly reply: Extract<RespReply, { kind: 'error' }>) {
    super(`${reply.prefix} ${reply.message}`)
  }
}

/** A reply as text (bulk strings as latin1; nil as ''); an error reply throws RespErrorReply. */
export function replyText(reply: RespReply): string {
  switch (reply.kind) {
    case 'error':
      throw new RespErrorReply(reply)
    case 'bulk':
      return reply.value === null ? '' : Buffer.from(reply.value).toString('latin1')
    case 'simple':
    case 'integer':
      return String(reply.value)
    case 'array':
      throw new Error(`expected a single value, got an array of ${reply.items?.length ?? 'nil'}`)
    default:
      throw new Error(`expected a RESP2 value, got a RESP3 ${reply.kind}`)
  }
}

/** INFO of the server on `port` as field → value, or null if it does not answer within a second. */
export async function infoFields(port: number): Promise<Map<string, string> | null> {
  const client = await RespClient.connect(port).catch(() => null)
  if (!client) return null
  let timer: NodeJS.Timeout | undefined
  try {
    const reply = await Promise.race([client.call('INFO'), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), INFO_TIMEOUT_MS)))])
    if (reply === null || reply.kind !== 'bulk') return null
    const fields = new Map<string, string>()
    for (const line of replyText(reply).split('\r\n')) {
      const colon = line.indexOf(':')
      if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1))
    }
    return fields
  } catch {
    // The server died mid-call: it has nothing to report.
    return null
  } finally {
    clearTimeout(timer)
    await client.close()
  }
}
