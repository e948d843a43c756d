// Errors the linearizability checker reports for histories it cannot interpret.

/** A history is malformed: the message names the operation or event and what is wrong with it. */
export class HistoryError extends Error {
  readonly code = 'ERR_BAD_HISTORY'
  constructor(message: string) {
    super(message)
    this.name = 'HistoryError'
  }
}
