// The protobuf codecs every RPC and machine message goes through: 64-bit integers come out as plain
// numbers, exact up to 2^53 - 1, and a message holding a larger one (top level or in a repeated
// nested message) is refused as BAD_MESSAGE instead of decoding to a number that was not sent.

import t from 'tap'
import { RpcError } from '../src/rpc/errors.js'
import { protoCodec } from '../src/rpc/proto.js'

/** A varint as protobuf writes it, for a non-negative integer of any size. */
function varint(value: bigint): number[] {
  const bytes: number[] = []
  let rest = value
  do {
    const low = Number(rest & 0x7fn)
    rest >>= 7n
    bytes.push(rest > 0n ? low | 0x80 : low)
  } while (rest > 0n)
  return bytes
}

/** Field `field` of wire type 0 (varint) holding `value`. */
function varintField(field: number, value: bigint): number[] {
  return [...varint(BigInt(field << 3)), ...varint(value)]
}

/** Field `field` of wire type 2 (length-delimited) holding `bytes`. */
function bytesField(field: number, bytes: number[]): number[] {
  return [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes]
}

interface EchoReply {
  text: string
  sequence: number
}

interface AppendEntries {
  term: number
  entries: Array<{ term: number; type: number }>
}

const echoReply = protoCodec<EchoReply>('echo.proto', 'lograft.echo.EchoReply')
const appendEntries = protoCodec<AppendEntries>('raft.proto', 'lograft.raft.AppendEntriesRequest')

t.test('uint64 fields decode to numbers, exact up to 2^53 - 1, and round-trip', async (t) => {
  for (const sequence of [0, 1, 2 ** 32 + 5, 2 ** 53 - 1]) {
    const decoded = echoReply.decode(new Uint8Array(varintField(4, BigInt(sequence))))
    t.equal(typeof decoded.sequence, 'number')
    t.equal(decoded.sequence, sequence, `${sequence} decodes exactly`)
    t.equal(echoReply.decode(echoReply.encode({ text: 'x', sequence })).sequence, sequence, `${sequence} round-trips`)
  }
  t.equal(echoReply.decode(new Uint8Array(0)).sequence, 0, 'a missing uint64 is 0, a number')
})

t.test('a uint64 beyond 2^53 - 1 is refused as BAD_MESSAGE, at the top level and inside repeated messages', async (t) => {
  for (const big of [2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
    t.throws(
      () => echoReply.decode(new Uint8Array(varintField(4, big))),
      { code: 'BAD_MESSAGE', message: /sequence is .* beyond 2\^53 - 1/ },
      `${big} at the top level`,
    )
    const entry = [...varintField(1, big), ...varintField(2, 0n)]
    const request = [...varintField(1, 3n), ...bytesField(5, [...varintField(1, 3n)]), ...bytesField(5, entry)]
    t.throws(
      () => appendEntries.decode(new Uint8Array(request)),
      { code: 'BAD_MESSAGE', message: /entries\.field term is .* beyond 2\^53 - 1/ },
      `${big} in the second entry`,
    )
  }
  const error = (() => {
    try {
      echoReply.decode(new Uint8Array(varintField(4, 2n ** 60n)))
    } catch (caught) {
      return caught
    }
    return null
  })()
  t.type(error, RpcError)
})
