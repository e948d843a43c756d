// Length-prefixed framing for byte streams: each frame is a 4-byte big-endian length and a body.
// The decoder enforces a maximum frame size before buffering a body.

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
  private buffered: Buffer = Buffer.alloc(0)

  constructor(private readonly maxFrameBytes: number) {}

  /** Returns every frame completed by `chunk`; throws FrameTooLargeError on an oversize header. */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    const frames: Buffer[] = []
    let offset = 0
    while (this.buffered.length - offset >= LENGTH_BYTES) {
      const length = this.buffered.readUInt32BE(offset)
      if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes)
      if (this.buffered.length - offset - LENGTH_BYTES < length) break
      frames.push(this.buffered.subarray(offset + LENGTH_BYTES, offset + LENGTH_BYTES + length))
      offset += LENGTH_BYTES + length
    }
    this.buffered = this.buffered.subarray(offset)
    return frames
  }
}
