// etcd's HTTP/JSON gRPC gateway as bench/kv.ts talks to it: clients that write with
// `POST <prefix>/kv/put` and read with `POST <prefix>/kv/range` (linearizable, etcd's default),
// base64 keys and values, one keep-alive connection per client, as a Node program without a gRPC
// library would talk to etcd; and the plain requests that start-up and leader lookup make.

import http from 'node:http'
import type { KvClient } from './kv-system.js'

/** The loopback address the members listen on. */
export const ETCD_HOST = '127.0.0.1'
/** How much of an unexpected reply body an error message quotes. */
const QUOTED_BODY_CHARS = 200

export class EtcdGatewayError extends Error {
  readonly code = 'ERR_ETCD_GATEWAY'
}

export interface GatewayReply {
  status: number
  body: string
}

/** A client of the member whose gateway listens on `port`, under the API prefix `prefix` (/v3 or /v3beta). */
export function gatewayKvClient(port: number, prefix: string): KvClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const call = async (operation: string, body: object): Promise<string> => {
    const reply = await request(port, 'POST', `${prefix}/kv/${operation}`, JSON.stringify(body), agent)
    if (reply.status !== 200) throw new EtcdGatewayError(`${operation} on port ${port} got HTTP ${reply.status}: ${reply.body.slice(0, QUOTED_BODY_CHARS)}`)
    return reply.body
  }
  return {
    async get(key) {
      return rangeValue(await call('range', { key: base64(key) }), key)
    },
    async set(key, value) {
      await call('put', { key: base64(key), value: value.toString('base64') })
    },
    async close() {
      agent.destroy()
    },
  }
}

/** The gateway's JSON status; ids are uint64s, which the gateway writes as strings. */
export function parseStatus(body: string): { memberId: string; leader: string } {
  const record = asRecord(JSON.parse(body))
  const header = asRecord(record.header)
  return { memberId: String(header.member_id ?? ''), leader: String(record.leader ?? '') }
}

export function request(port: number, method: string, path: string, body: string | null, agent?: http.Agent): Promise<GatewayReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: ETCD_HOST,
        port,
        method,
        path,
        ...(agent ? { agent } : {}),
        headers: body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}

/** The value of a range reply for one key (`kvs` is left out when the key has none). */
function rangeValue(body: string, key: string): Uint8Array | null {
  const kvs = asRecord(JSON.parse(body)).kvs
  if (kvs === undefined) return null
  // An empty value is left out, as proto3's JSON mapping leaves out every default.
  const value = Array.isArray(kvs) && kvs.length > 0 ? (asRecord(kvs[0]).value ?? '') : undefined
  if (typeof value !== 'string') throw new EtcdGatewayError(`range of ${key} got no value in ${body.slice(0, QUOTED_BODY_CHARS)}`)
  return Buffer.from(value, 'base64')
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64')
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}
