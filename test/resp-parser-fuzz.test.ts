// Property-based tests of the RESP parser (fast-check; a failure prints its seed and the shrunk
// input): random and mutated input never makes it throw, only report a protocol error, and never
// makes it hold more than its bound; valid commands, RESP arrays of binary arguments and inline
// lines of printable words, parse back exactly however they are cut into chunks; and input
// trickling in a byte at a time is copied and scanned a bounded number of times per byte.

import fc from 'fast-check'
import t from 'tap'
import { encodeCommand } from '../src/resp/client.js'
import { RespProtocolError } from '../src/resp/errors.js'
import { RespParser, type RespParserOptions } from '../src/resp/parser.js'

/** Small bounds, so that random input reaches them. */
const TIGHT_LIMITS: RespParserOptions = { maxBulkBytes: 64, maxArrayElements: 8, maxInlineBytes: 64, maxCommandBytes: 256 }

/** `bytes` cut into pieces of the given sizes, cycling through them. */
function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const pieces: Buffer[] = []
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? bytes.length
    pieces.push(bytes.subarray(at, at + size))
    at += size
  }
  return pieces
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 })

interface Parsed {
  readonly commands: Buffer[][]
  readonly error: RespProtocolError | null
}

/** Feeds `pieces` to a parser, checking its bound after each; stops at the first protocol error. */
function feed(parser: RespParser, pieces: readonly Buffer[]): Parsed {
  const commands: Buffer[][] = []
  for (const piece of pieces) {
    const result = parser.push(piece)
    commands.push(...result.commands)
    if (parser.bufferedBytes > parser.maxBufferedBytes) throw new Error(`holds ${parser.bufferedBytes} bytes, over ${parser.maxBufferedBytes}`)
    if (result.protocolError) return { commands, error: result.protocolError }
  }
  return { commands, error: null }
}

/** Bytes that mean something to the parser, so that random input often looks almost like RESP. */
const protocolishBytes = fc
  .array(fc.constantFrom('*', '$', '\r\n', '\n', '\r', '"', "'", '\\', '\\x4', '-', '0', '1', '3', '9', ' ', 'a', 'SET', '\u0000'), { maxLength: 120 })
  .map((tokens) => Buffer.from(tokens.join(''), 'latin1'))

const argument = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes))
const respCommand = fc.array(argument, { minLength: 1, maxLength: 6 })

/** A printable word that needs no quoting: no space, no quote, and not starting with '*' (which begins a RESP array). */
const inlineWord = fc.stringMatching(/^[!#-&(-)+-~][!#-&(-~]{0,15}$/)
const inlineCommand = fc.tuple(fc.array(inlineWord, { minLength: 1, maxLength: 6 }), fc.constantFrom(' ', '  ', '\t'), fc.constantFrom('\r\n', '\n'))

/** A command and its bytes on the wire, as a RESP array or as an inline line. */
const wireCommand = fc.oneof(
  respCommand.map((args) => ({ args, bytes: encodeCommand(args) })),
  inlineCommand.map(([words, gap, end]) => ({ args: words.map((word) => Buffer.from(word, 'latin1')), bytes: Buffer.from(words.join(gap) + end, 'latin1') })),
)

const mutation = fc.tuple(fc.constantFrom('replace', 'insert', 'delete'), fc.nat(), fc.integer({ min: 0, max: 255 }))

function mutate(bytes: Buffer, mutations: readonly (readonly [string, number, number])[]): Buffer {
  let mutated = bytes
  for (const [kind, position, byte] of mutations) {
    const at = mutated.length === 0 ? 0 : position % mutated.length
    if (kind === 'replace' && mutated.length > 0) mutated = Buffer.concat([mutated.subarray(0, at), Buffer.of(byte), mutated.subarray(at + 1)])
    else if (kind === 'insert') mutated = Buffer.concat([mutated.subarray(0, at), Buffer.of(byte), mutated.subarray(at)])
    else mutated = Buffer.concat([mutated.subarray(0, at), mutated.subarray(at + 1)])
  }
  return mutated
}

t.test('random bytes in random chunks never make the parser throw or exceed its bound', async (t) => {
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
    protocolishBytes,
  )
  fc.assert(
    fc.property(input, chunkSizes, (bytes, sizes) => {
      const { error } = feed(new RespParser(TIGHT_LIMITS), cut(bytes, sizes))
      return error === null || error instanceof RespProtocolError
    }),
  )
  t.pass('no input threw')
})

t.test('mutated valid commands never make the parser throw or exceed its bound, and the commands before the damage parse exactly', async (t) => {
  fc.assert(
    fc.property(
      fc.array(wireCommand, { minLength: 1, maxLength: 5 }),
      fc.nat(),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      chunkSizes,
      (commands, intactCount, mutations, sizes) => {
        const intact = commands.slice(0, intactCount % commands.length)
        const damaged = mutate(Buffer.concat(commands.slice(intact.length).map((command) => command.bytes)), mutations)
        const { commands: parsed, error } = feed(new RespParser(), cut(Buffer.concat([...intact.map((command) => command.bytes), damaged]), sizes))
        const expected = intact.map((command) => command.args)
        return (error === null || error instanceof RespProtocolError) && JSON.stringify(parsed.slice(0, expected.length)) === JSON.stringify(expected)
      },
    ),
  )
  fc.assert(
    fc.property(
      fc.array(wireCommand, { minLength: 1, maxLength: 5 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      chunkSizes,
      (commands, mutations, sizes) => {
        const { error } = feed(new RespParser(TIGHT_LIMITS), cut(mutate(Buffer.concat(commands.map((command) => command.bytes)), mutations), sizes))
        return error === null || error instanceof RespProtocolError
      },
    ),
  )
  t.pass('no mutation threw, and no damage reached back')
})

t.test('valid commands cut into random chunks parse back exactly', async (t) => {
  fc.assert(
    fc.property(fc.array(wireCommand, { minLength: 1, maxLength: 8 }), chunkSizes, (commands, sizes) => {
      const parser = new RespParser()
      const { commands: parsed, error } = feed(parser, cut(Buffer.concat(commands.map((command) => command.bytes)), sizes))
      const expected = commands.map((command) => command.args)
      return error === null && parser.bufferedBytes === 0 && JSON.stringify(parsed) === JSON.stringify(expected)
    }),
  )
  t.pass('every stream parsed back')
})

/**
 * The bytes the parser copies or scans while `bytes` are fed to it one byte per push: the calls
 * through which Buffers are joined, copied and searched are counted while it runs. A count rather
 * than a time, so that a busy machine cannot make the test pass or fail.
 */
function bytesTouched(bytes: Buffer, options: Partial<RespParserOptions>): number {
  let touched = 0
  const { concat, from } = Buffer
  const { copy, indexOf } = Buffer.prototype
  Buffer.concat = ((list: readonly Uint8Array[], totalLength?: number) => {
    const joined = concat(list, totalLength)
    touched += joined.length
    return joined
  }) as typeof Buffer.concat
  Buffer.from = ((...args: Parameters<typeof Buffer.from>) => {
    const made = (from as (...a: Parameters<typeof Buffer.from>) => Buffer)(...args)
    touched += made.length
    return made
  }) as typeof Buffer.from
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>): number {
    const copied = copy.apply(this, args)
    touched += copied
    return copied
  }
  Buffer.prototype.indexOf = function (this: Buffer, ...args: Parameters<Buffer['indexOf']>): number {
    const from = typeof args[1] === 'number' ? args[1] : 0
    touched += this.length - from
    return indexOf.apply(this, args)
  }
  try {
    const parser = new RespParser(options)
    for (let at = 0; at < bytes.length; at++) parser.push(bytes.subarray(at, at + 1))
  } finally {
    Object.assign(Buffer, { concat, from })
    Object.assign(Buffer.prototype, { copy, indexOf })
  }
  return touched
}

t.test('input arriving a byte at a time is copied and scanned a bounded number of times per byte', async (t) => {
  const shapes: Record<string, (lengthBytes: number) => Buffer> = {
    'an inline line': (length) => Buffer.from(`SET k ${'v'.repeat(length)}\r\n`),
    'a header line of many digits': (length) => Buffer.from(`*${'1'.repeat(length)}`),
    'a bulk string': (length) => encodeCommand(['SET', 'k', Buffer.alloc(length, 'v')]),
    'many small arguments': (length) => encodeCommand(Array.from({ length: length / 8 }, () => 'a')),
  }
  const options = { maxInlineBytes: 1024 * 1024, maxArrayElements: 1024 * 1024 }
  for (const [shape, make] of Object.entries(shapes)) {
    const bytes = make(256 * 1024)
    const touched = bytesTouched(bytes, options)
    // Each byte is copied into a block, joined once and scanned once or twice; joining all that
    // came before on every push, as the parser once did, touches about 130 000 bytes per byte here.
    t.ok(touched < 8 * bytes.length, `${shape}: ${(touched / bytes.length).toFixed(1)} bytes touched per byte`)
  }
})
