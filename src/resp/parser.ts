// Turns a connection's byte stream into commands (arrays of binary arguments), incrementally: a
// chunk may hold many pipelined commands or a fraction of one. Accepts what clients send: RESP
// arrays of bulk strings, and inline commands (a plain text line, as typed into telnet).

import { assert } from '../base/assert.js'
import { CHUNK_BLOCK_BYTES, ChunkList } from './chunk-list.js'
import { RespProtocolError } from './errors.js'
import { splitInlineArgs } from './inline.js'

export interface RespParserOptions {
  /** Longest bulk string (one argument); Redis's proto-max-bulk-len. */
  maxBulkBytes: number
  /** Most arguments in one command. */
  maxArrayElements: number
  /** Longest inline command line, and longest `*count` or `$length` header line. */
  maxInlineBytes: number
  /** Most argument bytes one command may declare; Redis's client-query-buffer-limit. */
  maxCommandBytes: number
}

export const DEFAULT_RESP_PARSER_OPTIONS: Readonly<RespParserOptions> = {
  maxBulkBytes: 512 * 1024 * 1024,
  maxArrayElements: 1024 * 1024,
  maxInlineBytes: 64 * 1024,
  maxCommandBytes: 1024 * 1024 * 1024,
}

export interface RespParseResult {
  /** Every command the chunk completed, in order; each is the command name followed by its arguments. */
  readonly commands: Buffer[][]
  /** Set once the input stops being RESP; commands before the bad byte are still returned. */
  readonly protocolError: RespProtocolError | null
}

const EMPTY = Buffer.alloc(0)
const LF = 0x0a
const CR = 0x0d
const ASTERISK = 0x2a
const DOLLAR = 0x24
/** Redis's string2ll accepts no sign but '-', no leading zeros and no spaces. */
const INTEGER = /^-?(0|[1-9][0-9]{0,17})$/

/**
 * What holding one argument costs besides its bytes: a Buffer object takes about 110 bytes of heap
 * in Node 20, so a million empty arguments are not free. Counted in bufferedBytes.
 */
export const ARGUMENT_OVERHEAD_BYTES = 128

/** The memory one parsed command holds: its arguments' bytes and their overhead. */
export function commandHeldBytes(args: readonly Buffer[]): number {
  let bytes = 0
  for (const value of args) bytes += value.length + ARGUMENT_OVERHEAD_BYTES
  return bytes
}

interface PartialCommand {
  readonly args: Buffer[]
  remaining: number
  declaredBytes: number
  /** commandHeldBytes(args), kept up to date. */
  heldBytes: number
}

const NO_COMMANDS: RespParseResult = { commands: [], protocolError: null }

export class RespParser {
  private readonly options: RespParserOptions
  /**
   * Bytes received but not parsed: the start of an element that cannot complete yet (a header or
   * inline line without its newline, a bulk string short of its length). Joined once, when the
   * element can complete, so that input trickling in a byte at a time costs time in proportion to
   * its length rather than to its square.
   */
  private pending = new ChunkList()
  /** The input being parsed by the current push. */
  private buffered: Buffer = EMPTY
  /** The length of the bulk string being read, or -1 while a `$length` header is expected. */
  private bulkBytes = -1
  private command: PartialCommand | null = null
  /** Bytes consumed before `buffered`, so an error can say where in the stream it is. */
  private consumedBytes = 0
  private failure: RespProtocolError | null = null

  constructor(options: Partial<RespParserOptions> = {}) {
    this.options = { ...DEFAULT_RESP_PARSER_OPTIONS, ...options }
  }

  /**
   * Bytes held for the command being received: its arguments so far (with ARGUMENT_OVERHEAD_BYTES
   * each) and the input not yet parsed. Never above maxBufferedBytes. An argument may be a view of a
   * received chunk at most twice its size, so the memory held is within twice this.
   */
  get bufferedBytes(): number {
    return this.pending.heldBytes + (this.command?.heldBytes ?? 0)
  }

  /**
   * The most bufferedBytes can be: a command's declared arguments, their overhead, a header line,
   * and the unused end of a block of small chunks. (A bulk string waiting for its end is part of
   * the declared bytes.)
   */
  get maxBufferedBytes(): number {
    const { maxCommandBytes, maxArrayElements, maxInlineBytes } = this.options
    return maxCommandBytes + maxArrayElements * ARGUMENT_OVERHEAD_BYTES + maxInlineBytes + 2 + CHUNK_BLOCK_BYTES
  }

  /** Whether a command has begun arriving and is not complete. */
  get midCommand(): boolean {
    return this.pending.byteLength > 0 || this.command !== null
  }

  push(chunk: Buffer): RespParseResult {
    if (this.failure) return { commands: [], protocolError: this.failure }
    if (chunk.length === 0) return NO_COMMANDS
    const waiting = this.pending.byteLength > 0
    this.pending.append(chunk)
    if (waiting && !this.canProgress(chunk)) return NO_COMMANDS
    this.buffered = this.pending.take()
    const commands: Buffer[][] = []
    let offset = 0
    try {
      for (;;) {
        const next = this.step(offset, commands)
        if (next === offset) break
        offset = next
      }
    } catch (error) {
      if (!(error instanceof RespProtocolError)) throw error
      this.failure = error
      this.buffered = EMPTY
      this.command = null
      return { commands, protocolError: error }
    }
    this.consumedBytes += offset
    if (offset < this.buffered.length) {
      const rest = this.buffered.subarray(offset)
      // A short tail is copied so that it does not keep the whole chunk it came in alive.
      this.pending.append(rest, rest.length * 2 < this.buffered.length)
    }
    this.buffered = EMPTY
    assert(this.bufferedBytes <= this.maxBufferedBytes, () => `parser holds ${this.bufferedBytes} bytes, over its bound ${this.maxBufferedBytes}`)
    return { commands, protocolError: null }
  }

  /**
   * Whether `chunk`, added to input that was waiting, can let the element waiting complete (or
   * exceed its bound, which is an error to report now). Only the new chunk is scanned.
   */
  private canProgress(chunk: Buffer): boolean {
    if (this.bulkBytes >= 0) return this.pending.byteLength >= this.bulkBytes + 2
    return chunk.includes(LF) || this.pending.byteLength > this.options.maxInlineBytes
  }

  /** Consumes one element starting at `offset`; returns the new offset, or `offset` when more input is needed. */
  private step(offset: number, commands: Buffer[][]): number {
    if (this.bulkBytes >= 0) return this.readBulk(offset, commands)
    if (offset >= this.buffered.length) return offset
    if (this.command) return this.readBulkHeader(offset)
    if (this.buffered[offset] === ASTERISK) return this.readArrayHeader(offset)
    return this.readInline(offset, commands)
  }

  private readArrayHeader(offset: number): number {
    const line = this.readLine(offset, 'too big mbulk count string')
    if (!line) return offset
    const count = parseInteger(line.text)
    if (count === null || count > this.options.maxArrayElements) {
      throw this.error(offset, `invalid multibulk length (${line.text}, max ${this.options.maxArrayElements})`)
    }
    // Redis ignores an empty or null array rather than calling it a command.
    if (count > 0) this.command = { args: [], remaining: count, declaredBytes: 0, heldBytes: 0 }
    return line.next
  }

  private readBulkHeader(offset: number): number {
    const got = this.buffered[offset] ?? 0
    if (got !== DOLLAR) throw this.error(offset, `expected '$', got '${String.fromCharCode(got)}'`)
    const line = this.readLine(offset, 'too big bulk count string')
    if (!line) return offset
    const length = parseInteger(line.text)
    if (length === null || length < 0 || length > this.options.maxBulkBytes) {
      throw this.error(offset, `invalid bulk length (${line.text}, max ${this.options.maxBulkBytes})`)
    }
    const command = this.command
    if (command) {
      command.declaredBytes += length
      if (command.declaredBytes > this.options.maxCommandBytes) {
        throw this.error(offset, `command too large (more than ${this.options.maxCommandBytes} bytes of arguments)`)
      }
    }
    this.bulkBytes = length
    return line.next
  }

  private readBulk(offset: number, commands: Buffer[][]): number {
    const length = this.bulkBytes
    const end = offset + length
    if (this.buffered.length < end + 2) return offset
    if (this.buffered[end] !== CR || this.buffered[end + 1] !== LF) {
      throw this.error(end, `bulk string of ${length} bytes is not followed by CRLF`)
    }
    const body = this.buffered.subarray(offset, end)
    // Copy small arguments so that a backend keeping one does not pin the whole socket chunk.
    const arg = length * 2 >= this.buffered.length ? body : Buffer.from(body)
    this.bulkBytes = -1
    const command = this.command
    if (command) {
      command.args.push(arg)
      command.heldBytes += arg.length + ARGUMENT_OVERHEAD_BYTES
      command.remaining--
      if (command.remaining === 0) {
        commands.push(command.args)
        this.command = null
      }
    }
    return end + 2
  }

  private readInline(offset: number, commands: Buffer[][]): number {
    const newline = this.buffered.indexOf(LF, offset)
    const lineBytes = (newline < 0 ? this.buffered.length : newline) - offset
    if (lineBytes > this.options.maxInlineBytes) {
      throw this.error(offset, `too big inline request (more than ${this.options.maxInlineBytes} bytes)`)
    }
    if (newline < 0) return offset
    const args = splitInlineArgs(this.buffered.subarray(offset, newline))
    if (args === null) throw this.error(offset, 'unbalanced quotes in request')
    if (args.length > this.options.maxArrayElements) {
      throw this.error(offset, `too many arguments in inline request (${args.length}, max ${this.options.maxArrayElements})`)
    }
    // An empty line is skipped, as Redis does; clients may send bare newlines between commands.
    if (args.length > 0) commands.push(args)
    return newline + 1
  }

  /** The text of a CRLF-terminated header line at `offset` (after its type byte), or null if incomplete. */
  private readLine(offset: number, tooLong: string): { text: string; next: number } | null {
    const newline = this.buffered.indexOf(LF, offset)
    const lineBytes = (newline < 0 ? this.buffered.length : newline) - offset
    if (lineBytes > this.options.maxInlineBytes) {
      throw this.error(offset, `${tooLong} (more than ${this.options.maxInlineBytes} bytes)`)
    }
    if (newline < 0) return null
    if (this.buffered[newline - 1] !== CR) throw this.error(newline, 'header line ends in LF without CR')
    return { text: this.buffered.toString('latin1', offset + 1, newline - 1), next: newline + 1 }
  }

  private error(offset: number, message: string): RespProtocolError {
    return new RespProtocolError(message, this.consumedBytes + offset)
  }
}

function parseInteger(text: string): number | null {
  return INTEGER.test(text) ? Number(text) : null
}
