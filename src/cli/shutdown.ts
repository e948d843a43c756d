// How a long-running lograft process learns it should stop: SIGINT or SIGTERM, or — when a local
// supervisor started it (--supervised) — the supervisor going away, which closes its stdin pipe.

/** How long a removed node keeps serving before it stops. */
const REMOVED_GRACE_MS = 1000

export function untilShutdown(supervised: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const shutdown = (): void => resolve()
    process.once('SIGINT', shutdown)
    process.once('SIGTERM', shutdown)
    if (supervised) {
      process.stdin.on('end', shutdown)
      process.stdin.resume()
    }
  })
}

/**
 * Runs a node until shutdown, then stops it. If the node fails first (a durable write failed, it
 * lost its state), throws its error, so the process exits non-zero with one line saying why
 * instead of living on as a zombie that still answers. If the node is removed from its cluster,
 * it says so and stops.
 */
export async function runUntilShutdownOrFailure(
  supervised: boolean,
  node: { readonly id: string; readonly failed: Promise<Error>; readonly removed: Promise<void>; stop(): Promise<void> },
): Promise<void> {
  const outcome = await Promise.race([untilShutdown(supervised).then(() => 'shutdown' as const), node.removed.then(() => 'removed' as const), node.failed])
  if (outcome instanceof Error) throw outcome
  if (outcome === 'removed') {
    process.stderr.write(`lograft: node ${node.id} was removed from its cluster; stopping\n`)
    // Replies in flight (the one confirming its own removal, say) leave before the port closes.
    await new Promise((resolve) => setTimeout(resolve, REMOVED_GRACE_MS))
  }
  await node.stop()
}
