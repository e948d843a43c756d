// Public surface of the linearizability checker (Wing & Gong's search with Lowe's memoisation, as
// in Porcupine): record a history, check it against a model, and report a failure.
export { checkOperations, checkEvents, DEFAULT_CHECK_TIMEOUT_MS, WHOLE_HISTORY_KEY } from './check.js'
export { HistoryError } from './errors.js'
export { kvModel, type KvInput, type KvOutput, type KvModelOptions, type KvState } from './kv-model.js'
export { HistoryRecorder, type PendingOperation } from './recorder.js'
export { formatReport } from './text-report.js'
export { renderHtmlReport, writeHtmlReport } from './html-report.js'
export { DEFAULT_REPORT_OPERATIONS, DEFAULT_REPORT_STEPS, type ReportOptions } from './failure-view.js'
export type {
  CheckOptions,
  CheckResult,
  CheckSummary,
  HistoryEvent,
  IllegalPartition,
  LinearizedStep,
  Model,
  Operation,
  Partition,
  StepResult,
} from './types.js'
