// How a long-running lograft process learns it should stop: SIGINT or SIGTERM, or — when a local
// supervisor started it (--supervised) — the supervisor going away, which closes its stdin pipe.

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
 * Runs a node until shutdown, then stops it; if the node fails first (a durable write failed, it
 * lost its state), throws its error, so the process exits non-zero with one line saying why
 * instead of living on as a zombie that still answers.
 */
export async function runUntilShutdownOrFailure(supervised: boolean, node: { readonly failed: Promise<Error>; stop(): Promise<void> }): Promise<void> {
  const failure = await Promise.race([untilShutdown(supervised).then(() => null), node.failed])
  if (failure) throw failure
  await node.stop()
}
