// Runs async jobs one at a time, in submission order. A clerk's session allows one outstanding
// request, so each clerk puts its requests through one of these.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job)
    // The tail only orders jobs; it must not keep the last result (a value may be large) or fail
    // later jobs because an earlier one failed.
    this.tail = result.then(ignore, ignore)
    return result
  }
}

function ignore(): void {}
