// The RESP endpoint's password (Redis's requirepass), kept as a digest and compared in constant
// time. Apart from the AUTH command, which the command table (and so the server's facts) must not
// import back.

import { createHash, timingSafeEqual } from 'node:crypto'

/** Redis's one user without ACLs; AUTH with a single argument means this user. */
export const DEFAULT_USER = 'default'

function digest(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest()
}

/** The configured password, kept as its digest so that every comparison takes the same time. */
export class RequirePass {
  private readonly passwordDigest: Buffer

  constructor(password: string) {
    this.passwordDigest = digest(Buffer.from(password, 'utf8'))
  }

  matches(username: string, password: Buffer): boolean {
    // Compared first, whatever the user name, so that a wrong name takes as long as a wrong password.
    const passwordMatches = timingSafeEqual(digest(password), this.passwordDigest)
    return passwordMatches && username === DEFAULT_USER
  }
}
