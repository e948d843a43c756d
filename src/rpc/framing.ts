// Length-prefixed framing for byte streams: each frame is a 4-byte big-endian length and a body.
// The decoder refuses an oversize frame from its header, before buffering any of its body, and
// reassembles a frame that arrives in many chunks in linear time: chunks are kept as they come and
// joined once, when the frame is complete (joining on every chunk made a trickled 63 MB frame cost
// quadratic time).

export class FrameTooLargeError extends Error {
  readonly code = 'ERR_FRAME_TOO_LARGE'
  constructor(
    readonly frameBytes: number,
    readonly maxFrameBytes: number,
  ) {
    super(`frame of ${frameBytes} bytes exceeds the maximum of ${maxFrameBytes}`)
  }
}

const LENGTH_BYTES = 4

export function lengthPrefixed(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + body.length)
  frame.writeUInt32BE(body.length, 0)
  frame.set(body, LENGTH_BYTES)
  return frame
}

/** Splits a byte stream into frame bodies. */
export class FrameDecoder {
  /** Received bytes not yet returned, in arrival order, from chunks[head]; that one may be partly consumed. */
  private chunks: Buffer[] = []
  private head = 0
  private buffered = 0
  /** The body length of the frame being read, or -1 while its header is incomplete. */
  private bodyBytes = -1

  constructor(private maxFrameBytes: number) {}

  /** Changes the largest frame accepted from here on (a connection allows only a small hello until it is accepted). */
  limit(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes
  }

  /** Bytes held for a frame not yet complete: never more than a header plus maxFrameBytes (plus one chunk). */
  get bufferedBytes(): number {
    return this.buffered
  }

  /** Returns every frame completed by `chunk`; throws FrameTooLargeError on an oversize header. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.buffered += chunk.length
    }
    const frames: Buffer[] = []
    for (;;) {
      if (this.bodyBytes < 0) {
        if (this.buffered < LENGTH_BYTES) break
        const length = this.take(LENGTH_BYTES).readUInt32BE(0)
        if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes)
        this.bodyBytes = length
      }
      if (this.buffered < this.bodyBytes) break
      frames.push(this.take(this.bodyBytes))
      this.bodyBytes = -1
    }
    return frames
  }

  /** Removes the first `count` buffered bytes: a view when they lie in one chunk, else one copy. */
  private take(count: number): Buffer {
    this.buffered -= count
    const first = this.chunks[this.head]
    if (first !== undefined && first.length >= count) {
      this.consume(first, count)
      return first.subarray(0, count)
    }
    const out = Buffer.allocUnsafe(count)
    let filled = 0
    while (filled < count) {
      const next = this.chunks[this.head] as Buffer
      const used = Math.min(next.length, count - filled)
      next.copy(out, filled, 0, used)
      filled += used
      this.consume(next, used)
    }
    return out
  }

  /** Drops `used` bytes of the head chunk; chunks used up are released in one step, not shifted one by one. */
  private consume(chunk: Buffer, used: number): void {
    if (used < chunk.length) {
      this.chunks[this.head] = chunk.subarray(used)
      return
    }
    this.head++
    if (this.head === this.chunks.length) {
      this.chunks = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
  }
}
