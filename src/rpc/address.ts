// Addresses of the TCP transport, written "host:port" or "unix:PATH": parsed and formatted apart
// from the transport itself, so that what only checks an address (the CLI's flags) does not load
// the transport, its codecs and protobufjs with it.

/** Where a TCP transport listens or dials: a host and port, or a Unix domain socket. */
export interface PeerAddress {
  host: string
  /** 0 when listening picks a free port. */
  port: number
  /** A Unix domain socket to use instead of host and port (written "unix:PATH"). */
  path?: string
}

/** "host:port", or "unix:PATH" for a Unix domain socket. */
export function formatAddress(address: PeerAddress): string {
  return address.path === undefined ? `${address.host}:${address.port}` : `unix:${address.path}`
}

/** Parses "host:port" or "unix:PATH", throwing a clear error for anything else. */
export function parseAddress(text: string): PeerAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length)
    if (path === '') throw new Error(`no socket path in "${text}"`)
    return { host: '', port: 0, path }
  }
  const match = /^(.+):(\d{1,5})$/.exec(text.trim())
  const port = match ? Number(match[2]) : NaN
  if (!match || port > 65535) throw new Error(`not a host:port address: "${text}"`)
  return { host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port }
}
