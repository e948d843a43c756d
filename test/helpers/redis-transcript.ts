// Differential testing of Redis-compatible servers: a Driver is one connection through one client
// library (node-redis speaking RESP3, ioredis speaking RESP2), and a Transcript records what a
// scenario sent through it and what came back, one line per command, with the nondeterministic
// parts (TTLs, SCAN cursors, key and field order, timestamps) reduced to what must agree.

import { type ChainableCommander, Redis } from 'ioredis'
import { createClient } from 'redis'

/** A command as words; a transaction or pipeline is a list of them. */
export type Words = readonly string[]

/** One connection to a server, through one client library. */
export interface Connection {
  /** Sends the words as one command; resolves the library's reply, rejects with its error. */
  send(words: Words): Promise<unknown>
  /** MULTI, the commands and EXEC through the library's own transaction helper. */
  transaction(commands: readonly Words[]): Promise<unknown>
  /** The commands through the library's own pipeline helper (no MULTI). */
  pipeline(commands: readonly Words[]): Promise<unknown>
  /** The library's own WATCH (node-redis remembers it to fail the next transaction helper). */
  watch(keys: Words): Promise<unknown>
  close(): Promise<void>
}

/** The connection a scenario runs on, and a way to open a second one (to another member, where there are several). */
export interface Driver extends Connection {
  another(): Promise<Connection>
}

export interface ClientLibrary {
  readonly name: string
  connect(port: number): Promise<Connection>
}

const HOST = '127.0.0.1'

// A client emits 'error' when its connection fails; the command that was waiting rejects with
// the same error and the transcript records it there, so the event itself has nothing to add.
const recordedThroughTheCommand = (): void => {}

/** node-redis with its default options: HELLO 3, RESP3 (maps as objects). */
export const nodeRedis: ClientLibrary = {
  name: 'node-redis (RESP3)',
  async connect(port) {
    const client = createClient({ url: `redis://${HOST}:${port}`, socket: { reconnectStrategy: false } })
    client.on('error', recordedThroughTheCommand)
    await client.connect()
    const multi = (commands: readonly Words[]) => {
      const chain = client.multi()
      for (const words of commands) chain.addCommand([...words])
      return chain
    }
    return {
      send: (words) => client.sendCommand([...words]),
      transaction: (commands) => multi(commands).exec(),
      pipeline: (commands) => multi(commands).execAsPipeline(),
      watch: (keys) => client.watch([...keys]),
      close: async () => client.destroy(),
    }
  },
}

/** ioredis told to speak RESP2 (its default is RESP3 with RESP2-shaped replies). */
export const ioredis: ClientLibrary = {
  name: 'ioredis (RESP2)',
  async connect(port) {
    const client = new Redis({ host: HOST, port, protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', recordedThroughTheCommand)
    await client.connect()
    const queue = (chain: ChainableCommander, commands: readonly Words[]) => {
      for (const [name = '', ...args] of commands) chain.call(name, args)
      return chain
    }
    return {
      send: ([name = '', ...args]) => client.call(name, args),
      transaction: (commands) => queue(client.multi(), commands).exec(),
      pipeline: (commands) => queue(client.pipeline(), commands).exec(),
      watch: (keys) => client.watch(...keys),
      close: async () => client.disconnect(),
    }
  },
}

/** Connects to `ports[0]`; `another()` connects to the next port (the same one for a single server). */
export async function connectDriver(library: ClientLibrary, ports: readonly number[]): Promise<Driver> {
  const [first, second] = ports
  if (first === undefined) throw new Error('connectDriver needs at least one port')
  const main = await library.connect(first)
  const others: Connection[] = []
  return {
    ...main,
    async another() {
      const other = await library.connect(second ?? first)
      others.push(other)
      return other
    },
    async close() {
      await Promise.all([main, ...others].map((connection) => connection.close()))
    },
  }
}

/** An argument written in the transcript as its label and sent as `wire()`, computed when the command goes out (a time from now). */
export interface LabelledArgument {
  readonly label: string
  wire(): string
}

/** A unix time in seconds, `offsetS` from now (for EXAT, EXPIREAT). */
export function secondsFromNow(offsetS: number): LabelledArgument {
  return { label: `<now${offsetS < 0 ? '' : '+'}${offsetS}s>`, wire: () => String(Math.floor(Date.now() / 1000) + offsetS) }
}

/** A unix time in milliseconds, `offsetMs` from now (for PXAT, PEXPIREAT). */
export function millisecondsFromNow(offsetMs: number): LabelledArgument {
  return { label: `<now${offsetMs < 0 ? '' : '+'}${offsetMs}ms>`, wire: () => String(Date.now() + offsetMs) }
}

export type Argument = string | LabelledArgument

/** A command that got no reply in time: the rest of the scenario could only read replies out of order. */
export class NoReplyError extends Error {
  readonly code = 'ERR_NO_REPLY'
  constructor(
    message: string,
    /** The scenario's transcript up to and including the unanswered command. */
    readonly lines: readonly string[],
  ) {
    super(message)
  }
}

/** How long one command may take before the scenario stops (a commit through Raft takes milliseconds). */
export const COMMAND_TIMEOUT_MS = 5_000
/** A SCAN that has not returned to cursor 0 after this many pages is reported, not followed further. */
const MAX_SCAN_PAGES = 1000
const POLL_INTERVAL_MS = 50

/** What Transcript.scan writes for the cursor: every page, from cursor 0 until it comes back to 0. */
const ALL_PAGES: LabelledArgument = { label: '<0..0>', wire: () => '0' }

function quoteWord(word: string): string {
  return /^[\x21-\x7e]+$/.test(word) && !word.includes('"') ? word : JSON.stringify(word)
}

function commandText(words: readonly Argument[]): string {
  return words.map((word) => (typeof word === 'string' ? quoteWord(word) : word.label)).join(' ')
}

/** A reply as one line: strings quoted, numbers bare, nil, errors by message, arrays and maps inline. */
export function formatReply(reply: unknown): string {
  if (reply === null || reply === undefined) return 'nil'
  if (reply instanceof Error) {
    // node-redis's transaction helper rejects with every reply attached when some command failed.
    const replies = 'replies' in reply && Array.isArray(reply.replies) ? ` replies ${formatReply(reply.replies)}` : ''
    return `(error) ${reply.message}${replies}`
  }
  if (typeof reply === 'string') return JSON.stringify(reply)
  if (typeof reply === 'number' || typeof reply === 'bigint' || typeof reply === 'boolean') return String(reply)
  if (Buffer.isBuffer(reply)) return JSON.stringify(reply.toString('latin1'))
  if (Array.isArray(reply)) return `[${reply.map(formatReply).join(', ')}]`
  const entries = reply instanceof Map ? [...reply.entries()] : typeof reply === 'object' ? Object.entries(reply) : null
  if (entries) return `{${entries.map(([key, value]) => `${formatReply(key)}: ${formatReply(value)}`).join(', ')}}`
  return `(unexpected ${typeof reply}) ${String(reply)}`
}

/** A map reply (an object or Map in RESP3, a flat array in RESP2) as [field, value] pairs; null if it is neither. */
function mapPairs(reply: unknown): [unknown, unknown][] | null {
  if (reply instanceof Map) return [...reply.entries()]
  if (Array.isArray(reply)) {
    if (reply.length % 2 !== 0) return null
    return Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i], reply[2 * i + 1]])
  }
  if (typeof reply === 'object' && reply !== null && !(reply instanceof Error) && !Buffer.isBuffer(reply)) return Object.entries(reply)
  return null
}

function isScanPage(reply: unknown): reply is [string, unknown[]] {
  return Array.isArray(reply) && reply.length === 2 && typeof reply[0] === 'string' && Array.isArray(reply[1])
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * What a scenario sent and got back, one line per command (`SET k v NX -> "OK"`). Commands on a
 * second connection share the lines, marked with that connection's tag.
 */
export class Transcript {
  private constructor(
    private readonly connection: Connection,
    /** Shared with the transcripts `on` other connections. */
    private readonly written: string[],
    private readonly tag: string,
  ) {}

  get lines(): readonly string[] {
    return this.written
  }

  /** Starts a scenario's transcript on `driver` with FLUSHDB, so no earlier scenario's keys are seen. */
  static async begin(driver: Connection): Promise<Transcript> {
    const transcript = new Transcript(driver, [], '')
    await transcript.send('FLUSHDB')
    return transcript
  }

  /** The same transcript, recording commands sent on `connection` with `[tag]` in front. */
  on(connection: Connection, tag: string): Transcript {
    return new Transcript(connection, this.written, `[${tag}] `)
  }

  /** Adds a line that is not a command (what the scenario waited for). */
  note(text: string): void {
    this.written.push(`# ${text}`)
  }

  /** Sends one raw command and records its reply; returns the reply (an error reply as its Error). */
  async send(...words: Argument[]): Promise<unknown> {
    const reply = await this.ask(words)
    this.record(words, formatReply(reply))
    return reply
  }

  /** Sends each command in turn, as `send` does. */
  async sendEach(commands: readonly (readonly Argument[])[]): Promise<void> {
    for (const words of commands) await this.send(...words)
  }

  /** MULTI, the commands and EXEC as plain commands, each reply recorded (QUEUED, errors while queuing, EXEC's array). */
  async multiExec(...commands: (readonly Argument[])[]): Promise<void> {
    await this.send('MULTI')
    await this.sendEach(commands)
    await this.send('EXEC')
  }

  /** Sends a command whose reply is a list in no defined order (KEYS) and records it sorted. */
  async sendSorted(...words: Argument[]): Promise<void> {
    const reply = await this.ask(words)
    this.record(words, Array.isArray(reply) ? `[${reply.map(formatReply).sort().join(', ')}]` : formatReply(reply))
  }

  /** Sends a command whose reply is a map (HGETALL) and records its pairs sorted by field. */
  async sendMap(...words: Argument[]): Promise<void> {
    const reply = await this.ask(words)
    const pairs = reply instanceof Error ? null : mapPairs(reply)
    if (!pairs) return this.record(words, formatReply(reply))
    const shown = pairs.map(([field, value]) => `${formatReply(field)}: ${formatReply(value)}`).sort()
    this.record(words, `{${shown.join(', ')}}`)
  }

  /**
   * TTL or PTTL of `key`, recorded as `in (low, high]` when the remaining time is in that range
   * (time passes differently on two servers) and exactly otherwise (-1, -2, an error, a value out of range).
   */
  async ttl(command: 'TTL' | 'PTTL', key: string, low: number, high: number): Promise<void> {
    const reply = await this.ask([command, key])
    const inRange = typeof reply === 'number' && reply > low && reply <= high
    this.record([command, key], inRange ? `in (${low}, ${high}]` : formatReply(reply))
  }

  /** SCAN from cursor 0 back to 0 with `options`, recorded as the sorted set of keys seen (cursors and pages differ). */
  async scan(...options: string[]): Promise<void> {
    const keys = new Set<string>()
    const seen = () => `[${[...keys].sort().join(', ')}]`
    let cursor = '0'
    for (let page = 0; page < MAX_SCAN_PAGES; page++) {
      const reply = await this.ask(['SCAN', cursor, ...options])
      if (!isScanPage(reply)) return this.record(['SCAN', ALL_PAGES, ...options], `${formatReply(reply)} after ${seen()}`)
      for (const key of reply[1]) keys.add(formatReply(key))
      cursor = reply[0]
      if (cursor === '0') return this.record(['SCAN', ALL_PAGES, ...options], seen())
    }
    this.record(['SCAN', ALL_PAGES, ...options], `(no cursor 0 after ${MAX_SCAN_PAGES} pages) ${seen()}`)
  }

  /** The library's transaction helper over `commands`; records its result (or rejection). */
  async transaction(...commands: Words[]): Promise<void> {
    const reply = await this.settle(this.connection.transaction(commands), 'the transaction helper')
    this.written.push(`${this.tag}multi(${commands.map(commandText).join('; ')}).exec() -> ${formatReply(reply)}`)
  }

  /** The library's pipeline helper over `commands`; records its result (or rejection). */
  async pipeline(...commands: Words[]): Promise<void> {
    const reply = await this.settle(this.connection.pipeline(commands), 'the pipeline helper')
    this.written.push(`${this.tag}pipeline(${commands.map(commandText).join('; ')}).exec() -> ${formatReply(reply)}`)
  }

  /** The library's WATCH helper; records its reply. */
  async watch(...keys: string[]): Promise<void> {
    const reply = await this.settle(this.connection.watch(keys), 'the WATCH helper')
    this.written.push(`${this.tag}watch(${keys.map(quoteWord).join(', ')}) -> ${formatReply(reply)}`)
  }

  /**
   * Polls `EXISTS keys` until it is 0 or `timeoutMs` passes, recording only a note: a server that
   * expires keys by the time in its log may take a little longer than Redis, and the scenario
   * records the state it finds afterwards.
   */
  async waitUntilGone(keys: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while ((await this.ask(['EXISTS', ...keys])) !== 0 && performance.now() < deadline) await pause(POLL_INTERVAL_MS)
    this.note(`waited (at most ${timeoutMs} ms) for ${keys.join(', ')} to expire`)
  }

  private record(words: readonly Argument[], reply: string): void {
    this.written.push(`${this.tag}${commandText(words)} -> ${reply}`)
  }

  private ask(words: readonly Argument[]): Promise<unknown> {
    const wire = words.map((word) => (typeof word === 'string' ? word : word.wire()))
    return this.settle(this.connection.send(wire), commandText(words))
  }

  /** The reply, or the error it rejected with; a NoReplyError if neither comes within COMMAND_TIMEOUT_MS. */
  private async settle(promise: Promise<unknown>, what: string): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.written.push(`${this.tag}${what} -> (no reply within ${COMMAND_TIMEOUT_MS} ms)`)
        reject(new NoReplyError(`no reply to ${what} within ${COMMAND_TIMEOUT_MS} ms`, this.lines))
      }, COMMAND_TIMEOUT_MS)
    })
    try {
      return await Promise.race([promise.catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/** One scenario: commands sent through `client`, recorded. */
export type Scenario = (client: Driver) => Promise<Transcript>

/**
 * Runs `scenario` on a fresh connection to `ports` through `library` and returns its lines; a
 * command left unanswered ends the transcript there (its last line says so) rather than the whole test.
 */
export async function runScenario(library: ClientLibrary, ports: readonly number[], scenario: Scenario): Promise<readonly string[]> {
  const driver = await connectDriver(library, ports)
  try {
    return (await scenario(driver)).lines
  } catch (error) {
    if (error instanceof NoReplyError) return error.lines
    throw error
  } finally {
    await driver.close()
  }
}

/**
 * Where two transcripts of one scenario differ, two lines per differing line (`12 redis   | ...`,
 * `   lograft | ...`), never wrapped: a scenario writes one line per step whatever the replies, so
 * line N of one is line N of the other. Empty when they are equal.
 */
export function transcriptDifferences(expected: readonly string[], actual: readonly string[], names: { expected: string; actual: string }): string[] {
  const width = Math.max(names.expected.length, names.actual.length)
  const numberWidth = String(Math.max(expected.length, actual.length)).length
  const out: string[] = []
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const [want, got] = [expected[i], actual[i]]
    if (want === got) continue
    out.push(`${String(i + 1).padStart(numberWidth)} ${names.expected.padEnd(width)} | ${want ?? '(no line)'}`)
    out.push(`${' '.repeat(numberWidth)} ${names.actual.padEnd(width)} | ${got ?? '(no line)'}`)
  }
  return out
}
