// A raw socket speaking the TCP transport's framing by hand, for tests that send what a well-behaved
// TcpTransport never would: bytes before or instead of a hello, oversize headers, forged frames.

import net from 'node:net'
import { type Hello, type HelloReply, FrameKind, controlFrame, frameCodec, helloCodec, helloReplyCodec } from '../../src/rpc/frame.js'
import { FrameDecoder, lengthPrefixed } from '../../src/rpc/framing.js'

export interface RawConnection {
  readonly socket: net.Socket
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>
}

/** Connects to 127.0.0.1:`port`; resets from the server count as its close. */
export async function connectRaw(port: number): Promise<RawConnection> {
  const socket = net.connect({ host: '127.0.0.1', port })
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.on('connect', resolve))
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  // Flowing, so that bytes nobody reads do not keep the socket from seeing the server's close.
  socket.resume()
  return { socket, closed }
}

/** Sends `hello` as the first frame and resolves with the server's answer. */
export async function sendHello(connection: RawConnection, hello: Partial<Hello>): Promise<HelloReply> {
  const full: Hello = { clusterId: '', nodeId: 'raw', asPeer: false, expectedId: '', membersDigest: '', incarnation: '', bootId: 'raw', ...hello }
  const decoder = new FrameDecoder(4096)
  const answer = new Promise<HelloReply>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const [body] = decoder.push(chunk)
      if (body === undefined) return
      connection.socket.off('data', onData)
      resolve(helloReplyCodec.decode(frameCodec.decode(body).payload))
    }
    connection.socket.on('data', onData)
    connection.socket.on('close', () => reject(new Error('closed before answering the hello')))
  })
  connection.socket.write(lengthPrefixed(frameCodec.encode(controlFrame(FrameKind.Hello, helloCodec.encode(full)))))
  return answer
}
