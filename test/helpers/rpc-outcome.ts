// A call's fate as text, for tests that assert what a forged or refused RPC came to.

import { isRpcError } from '../../src/rpc/errors.js'

/** "accepted", or "CODE: message" for an RpcError (anything else as its text). */
export async function rpcOutcome(call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'accepted'
  } catch (error) {
    return isRpcError(error) ? `${error.code}: ${error.message}` : String(error)
  }
}
