// Public surface of the RESP endpoint: a Redis-protocol server over an injected KV backend, a small
// client, and the protocol pieces (parser, replies, writer) for tools and tests.
export { RespServer, type RespServerOptions } from './server.js'
export type { RespLimitOptions } from './limits.js'
export type { RespTlsOptions } from './tls-listener.js'
export type { KvBackend, KvInfoSections } from './backend.js'
export { RespError, RespProtocolError, RespClientGoneError, RespOptionError, type RespErrorPrefix } from './errors.js'
export { RespParser, DEFAULT_RESP_PARSER_OPTIONS, type RespParserOptions, type RespParseResult } from './parser.js'
export { RespWriter, encodeReply } from './writer.js'
export { type RespReply, simpleReply, errorReply, integerReply, bulkReply, arrayReply, OK_REPLY, NULL_BULK_REPLY } from './reply.js'
export { REDIS_COMPATIBLE_VERSION } from './connection-commands.js'
export { RespClient } from './client.js'
