// What the conformance suites need of a test framework: a way to declare named tests. The suites
// check with node:assert and so fail a test by throwing, which every framework understands.

/**
 * Declares the suite's tests: tap's `t`, node:test's `test` (or a subtest's context) and most other
 * TAP-style frameworks fit. A test fails when its body rejects.
 */
export interface ConformanceHost {
  /** Declares a test called `name` that runs `body`. */
  test(name: string, body: () => Promise<void>): unknown
}
