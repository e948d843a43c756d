import net from 'node:net'
import { type RespErrorPrefix } from './errors.js'
import {
  NULL_REPLY,
  type RespReply,
  arrayReply,
  booleanReply,
  bulkReply,
  doubleReply,
  errorReply,
  integerReply,
  mapReply,
  setReply,
  simpleReply,
  verbatimReply,
} from './reply.js'
import { RespWriter } from './writer.js'

/** One word of a command; a string is sent as UTF-8. */
export type Word = string | Buffer

/** One command as a RESP array of bulk strings, the way client libraries send it. */
export function encodeCommand(words: readonly Word[]): Buffer {
  const writer = new RespWriter().arrayHeader(words.length)
  for (const word of words) writer.bulkString(word)
  return writer.toBuffer()
}

/**
 * A small RESP client, over plain TCP: sends commands as RESP arrays (pipelined if you like) and
 * decodes replies into RespReply values, matched to commands in the order they were sent. Used by
 * the demo, the benchmarks and the tests (which also send raw bytes, to send what a well-behaved
 * client never would).
 */
export class RespClient {
  private buffered = Buffer.alloc(0)
  private readonly replies: RespReply[] = []
  private readonly waiting: { resolve: (reply: RespReply) => void; reject: (error: Error) => void }[] = []
  private ended = false
  /** Resolves when the server has closed the connection (or it was closed here). */
  readonly closed: Promise<void>

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    // A reset by the server shows up as the close that tests wait for.
    socket.on('error', () => {})
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true
        for (const waiter of this.waiting.splice(0)) waiter.reject(new Error('connection closed before a reply'))
        resolve()
      }),
    )
  }

  /** Connects to a RESP server; rejects with the socket's error if the connection fails. */
  static async connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    const socket = net.connect({ host, port })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    socket.setNoDelay(true)
    return new RespClient(socket)
  }

  /** Sends one command and resolves with its reply. */
  call(...words: Word[]): Promise<RespReply> {
    this.socket.write(encodeCommand(words))
    return this.nextReply()
  }

  /** Sends every command in one write and resolves with their replies, in the order they came. */
  async pipeline(commands: readonly (readonly Word[])[]): Promise<RespReply[]> {
    this.socket.write(Buffer.concat(commands.map(encodeCommand)))
    const replies: RespReply[] = []
    for (let i = 0; i < commands.length; i++) replies.push(await this.nextReply())
    return replies
  }

  /** Sends `bytes` as they are, RESP or not; read what the server answers with nextReply(). */
  writeRaw(bytes: Buffer | string): void {
    this.socket.write(bytes)
  }

  /** The next reply not yet taken; rejects if the connection closes before it arrives. */
  nextReply(): Promise<RespReply> {
    const reply = this.replies.shift()
    if (reply) return Promise.resolve(reply)
    if (this.ended) return Promise.reject(new Error('connection closed before a reply'))
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }))
  }

  /** Replies received but not yet taken. */
  get unreadReplies(): number {
    return this.replies.length
  }

  /** Drops the connection at once and resolves once it is closed; replies still awaited reject. */
  close(): Promise<void> {
    this.socket.destroy()
    return this.closed
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk])
    for (;;) {
      const decoded = decodeReply(this.buffered, 0)
      if (!decoded) return
      this.buffered = this.buffered.subarray(decoded.next)
      const waiter = this.waiting.shift()
      if (waiter) waiter.resolve(decoded.reply)
      else this.replies.push(decoded.reply)
    }
  }
}

/** The reply starting at `offset`, or null while it is incomplete. */
function decodeReply(bytes: Buffer, offset: number): { reply: RespReply; next: number } | null {
  const lineEnd = bytes.indexOf('\r\n', offset)
  if (lineEnd < 0) return null
  const text = bytes.toString('utf8', offset + 1, lineEnd)
  const next = lineEnd + 2
  switch (String.fromCharCode(bytes[offset] ?? 0)) {
    case '+':
      return { reply: simpleReply(text), next }
    case '-': {
      const space = text.indexOf(' ')
      return { reply: errorReply(text.slice(0, space) as RespErrorPrefix, text.slice(space + 1)), next }
    }
    case ':': {
      const value = Number(text)
      return { reply: integerReply(Number.isSafeInteger(value) ? value : BigInt(text)), next }
    }
    case '$': {
      const length = Number(text)
      if (length < 0) return { reply: bulkReply(null), next }
      if (bytes.length < next + length + 2) return null
      return { reply: bulkReply(Buffer.from(bytes.subarray(next, next + length))), next: next + length + 2 }
    }
    case '*': {
      const count = Number(text)
      if (count < 0) return { reply: arrayReply(null), next }
      const items = decodeItems(bytes, next, count)
      return items && { reply: arrayReply(items.items), next: items.next }
    }
    // RESP3, after HELLO 3.
    case '%': {
      const items = decodeItems(bytes, next, 2 * Number(text))
      if (!items) return null
      const entries: Array<readonly [RespReply, RespReply]> = []
      for (let i = 0; i < items.items.length; i += 2) entries.push([items.items[i] as RespReply, items.items[i + 1] as RespReply])
      return { reply: mapReply(entries), next: items.next }
    }
    case '~': {
      const items = decodeItems(bytes, next, Number(text))
      return items && { reply: setReply(items.items), next: items.next }
    }
    case '_':
      return { reply: NULL_REPLY, next }
    case ',':
      return { reply: doubleReply(text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text)), next }
    case '#':
      return { reply: booleanReply(text === 't'), next }
    case '=': {
      const length = Number(text)
      if (bytes.length < next + length + 2) return null
      const body = bytes.toString('utf8', next, next + length)
      return { reply: verbatimReply(body.slice(4), body.slice(0, 3)), next: next + length + 2 }
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(bytes.toString('latin1', offset, offset + 40))}`)
  }
}

/** `count` replies in a row from `offset`, or null while incomplete. */
function decodeItems(bytes: Buffer, offset: number, count: number): { items: RespReply[]; next: number } | null {
  const items: RespReply[] = []
  let at = offset
  for (let i = 0; i < count; i++) {
    const item = decodeReply(bytes, at)
    if (!item) return null
    items.push(item.reply)
    at = item.next
  }
  return { items, next: at }
}
