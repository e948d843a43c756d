// Bytes received but not yet parsed, kept as the chunks that arrived until they are needed joined.
// Small chunks are copied into a shared block instead of kept one by one: a client trickling its
// input a byte per TCP segment would otherwise cost a Buffer object (about 110 bytes) per byte.

/** The largest block small chunks are gathered in; chunks of a quarter of this or more are kept as they are. */
export const CHUNK_BLOCK_BYTES = 16 * 1024
/** The first block's size: blocks double from here, so a short partial command costs little memory. */
const FIRST_BLOCK_BYTES = 256

export class ChunkList {
  private chunks: Buffer[] = []
  /** The block small chunks are being copied into (the last of `chunks`), and how much of it is used. */
  private block: Buffer | null = null
  private blockUsedBytes = 0
  private dataBytes = 0

  /** Bytes of data held. */
  get byteLength(): number {
    return this.dataBytes
  }

  /** Bytes of memory held: the data and the unused end of the current block (less than twice the data, or FIRST_BLOCK_BYTES). */
  get heldBytes(): number {
    return this.dataBytes + (this.block === null ? 0 : this.block.length - this.blockUsedBytes)
  }

  /**
   * Adds `chunk` after what is held. A small chunk is always copied; a larger one only when `copy`
   * is set (when it is a short view of a larger buffer, which it would otherwise keep alive).
   */
  append(chunk: Buffer, copy = false): void {
    if (chunk.length >= CHUNK_BLOCK_BYTES / 4) {
      this.sealBlock()
      this.chunks.push(copy ? Buffer.from(chunk) : chunk)
      this.dataBytes += chunk.length
      return
    }
    if (this.block === null || this.blockUsedBytes + chunk.length > this.block.length) {
      const previousBytes = this.block?.length ?? FIRST_BLOCK_BYTES / 2
      this.sealBlock()
      this.block = Buffer.allocUnsafe(Math.min(Math.max(previousBytes * 2, chunk.length), CHUNK_BLOCK_BYTES))
      this.blockUsedBytes = 0
      this.chunks.push(this.block)
    }
    chunk.copy(this.block, this.blockUsedBytes)
    this.blockUsedBytes += chunk.length
    this.dataBytes += chunk.length
  }

  /** All the data as one Buffer (joined only if it is in more than one chunk); the list is left empty. */
  take(): Buffer {
    this.sealBlock()
    const chunks = this.chunks
    const bytes = this.dataBytes
    this.chunks = []
    this.dataBytes = 0
    return chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, bytes)
  }

  /** Ends the current block at what it holds, so that what follows goes after it. */
  private sealBlock(): void {
    if (this.block === null) return
    this.chunks[this.chunks.length - 1] = this.block.subarray(0, this.blockUsedBytes)
    this.block = null
  }
}
