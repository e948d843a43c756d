// Property-based fuzzing (fast-check) of the peer port's input path: the length-prefixed frame
// decoder, the frame and hello codecs, and a live TcpTransport fed random and mutated bytes.
// Valid input round-trips in any chunking; anything else is refused with a known error, never a
// crash, and the decoder never holds more than one frame's worth of bytes.

import fc from 'fast-check'
import t from 'tap'
import { RpcError } from '../src/rpc/errors.js'
import { FrameKind, frameCodec, helloCodec } from '../src/rpc/frame.js'
import { FrameDecoder, FrameTooLargeError, lengthPrefixed } from '../src/rpc/framing.js'
import { TcpTransport } from '../src/rpc/tcp-transport.js'
import { MemoryLogger } from '../src/base/logger.js'
import { echoMethod, echoReply, echoRequest } from './helpers/echo.js'
import { handler, invoke } from '../src/rpc/service.js'
import { connectRaw } from './helpers/raw-connection.js'

const MAX_FRAME_BYTES = 4096

/** Cuts `bytes` at the given fractions into consecutive chunks. */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let start = 0
  for (const point of [...points, bytes.length]) {
    if (point > start) chunks.push(bytes.subarray(start, point))
    start = Math.max(start, point)
  }
  return chunks
}

const bodies = fc.array(fc.uint8Array({ maxLength: MAX_FRAME_BYTES }), { maxLength: 12 })
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 })

t.test('frames in any chunking come out exactly as they went in', async (t) => {
  fc.assert(
    fc.property(bodies, cuts, (frames, cutPoints) => {
      const stream = Buffer.concat(frames.map((body) => lengthPrefixed(body)))
      const decoder = new FrameDecoder(MAX_FRAME_BYTES)
      const out = chunked(stream, cutPoints).flatMap((chunk) => decoder.push(chunk))
      return (
        out.length === frames.length && out.every((body, i) => Buffer.compare(body, Buffer.from(frames[i] as Uint8Array)) === 0) && decoder.bufferedBytes === 0
      )
    }),
    { numRuns: 300 },
  )
  t.pass('round trip holds')
})

t.test('random or mutated bytes are decoded or refused as too large, and never held past one frame', async (t) => {
  const mutated = fc.tuple(bodies, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })).map(([frames, flips]) => {
    const stream = Buffer.concat(frames.map((body) => lengthPrefixed(body)))
    for (const [at, value] of flips) if (stream.length > 0) stream[at % stream.length] = value
    return stream
  })
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 20_000 }).map((bytes) => Buffer.from(bytes)),
        mutated,
      ),
      cuts,
      (stream, cutPoints) => {
        const decoder = new FrameDecoder(MAX_FRAME_BYTES)
        for (const chunk of chunked(stream, cutPoints)) {
          try {
            decoder.push(chunk)
          } catch (error) {
            if (!(error instanceof FrameTooLargeError)) throw error
            return true
          }
          if (decoder.bufferedBytes > 4 + MAX_FRAME_BYTES + chunk.length) return false
        }
        return true
      },
    ),
    { numRuns: 500 },
  )
  t.pass('no crash, bounded')
})

t.test('the frame and hello codecs refuse garbage with BAD_MESSAGE and nothing else', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      for (const codec of [frameCodec, helloCodec]) {
        try {
          codec.decode(bytes)
        } catch (error) {
          if (!(error instanceof RpcError) || error.code !== 'BAD_MESSAGE') throw error
        }
      }
      return true
    }),
    { numRuns: 2000 },
  )
  t.pass('only BAD_MESSAGE')
})

t.test('a live transport fed random and mutated streams keeps serving its well-behaved clients', async (t) => {
  const logger = new MemoryLogger()
  const server = await TcpTransport.start({
    self: 'server',
    listen: { host: '127.0.0.1', port: 0 },
    logger,
    maxFrameBytes: MAX_FRAME_BYTES,
    handshakeTimeoutMs: 200,
  })
  t.teardown(() => server.close())
  server.register('Echo', { Echo: handler(echoMethod, (request) => echoReply({ text: request.text })) })
  const port = server.address?.port ?? 0
  const client = await TcpTransport.start({ self: 'client', logger: new MemoryLogger() })
  t.teardown(() => client.close())
  const hello = frameCodec.encode({
    kind: FrameKind.Hello,
    id: 0,
    method: '',
    payload: helloCodec.encode({ clusterId: '', nodeId: 'fuzz', asPeer: false, expectedId: '', membersDigest: '', incarnation: '', bootId: 'fuzz' }),
    errorCode: '',
    errorMessage: '',
    from: '',
  })
  const request = frameCodec.encode({
    kind: FrameKind.Request,
    id: 1,
    method: 'Echo.Echo',
    payload: echoMethod.request.encode(echoRequest({ text: 'x' })),
    errorCode: '',
    errorMessage: '',
    from: '',
  })
  const valid = Buffer.concat([lengthPrefixed(hello), lengthPrefixed(request)])

  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
          const stream = Buffer.from(valid)
          for (const [at, value] of flips) stream[at % stream.length] = value
          return stream
        }),
      ),
      async (stream) => {
        const raw = await connectRaw(port)
        raw.socket.end(stream)
        await raw.closed
        return (await invoke(client, `127.0.0.1:${port}`, echoMethod, echoRequest({ text: 'still' }))).text === 'still'
      },
    ),
    { numRuns: 40 },
  )
  t.pass('the server survived every stream')
})
