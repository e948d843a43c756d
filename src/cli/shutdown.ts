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
