// Password authentication for the RESP endpoint (RespServerOptions.requirePass), as Redis does it
// without ACLs: one user, "default", and before AUTH (or HELLO's AUTH option) only AUTH, HELLO and
// QUIT are answered. The password is compared in constant time, as digests of equal length.

import { type CommandContext, type CommandSpec, NO_KEYS, arg, argText } from './commands.js'
import { RespError } from './errors.js'
import { OK_REPLY } from './reply.js'
import { DEFAULT_USER } from './require-pass.js'

/**
 * Authenticates `client` as `username` (null: the default user, AUTH's one-argument form) or
 * throws RespError in Redis's words. A failed attempt leaves an authenticated client authenticated.
 */
export function authenticate({ client, server }: CommandContext, username: string | null, password: Buffer): void {
  const { requirePass } = server
  if (requirePass === null) {
    // Without a password the default user takes any password (Redis's "nopass"); AUTH's
    // one-argument form is an error there, as it most likely means a misconfigured client.
    if (username === null) {
      throw new RespError('ERR', 'AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?')
    }
    if (username !== DEFAULT_USER) throw wrongPass()
    return
  }
  if (!requirePass.matches(username ?? DEFAULT_USER, password)) throw wrongPass()
  client.authenticated = true
}

function wrongPass(): RespError {
  return new RespError('WRONGPASS', 'invalid username-password pair or user is disabled.')
}

/** AUTH password | AUTH username password. */
const auth: CommandSpec = {
  name: 'auth',
  arity: -2,
  flags: ['fast', 'no-auth', 'loading', 'stale'],
  keys: NO_KEYS,
  run: (args, context) => {
    if (args.length > 3) throw new RespError('ERR', 'syntax error')
    const [username, password] = args.length === 3 ? [argText(args, 1), arg(args, 2)] : [null, arg(args, 1)]
    authenticate(context, username, password)
    return OK_REPLY
  },
}

export const authCommands: readonly CommandSpec[] = [auth]
