// Public surface of MapReduce: the coordinator and worker over any Transport, the pure scheduler,
// the sequential reference runner, app loading, and the types an app is written against.
export { Coordinator, type CoordinatorOptions } from './coordinator.js'
export { runWorker, type WorkerOptions, type WorkerResult, type WorkerExitReason } from './worker.js'
export {
  Scheduler,
  DEFAULT_TUNING,
  type SchedulerOptions,
  type SchedulerTuning,
  type SchedulerEvent,
  type JobStatus,
  type Phase,
  type PhaseProgress,
  type SkippedRecord,
} from './scheduler.js'
export { runSequential } from './sequential.js'
export { DEFAULT_SPLIT_BYTES } from './input-splits.js'
export { loadApp, isBuiltinApp } from './app-loader.js'
export { BUILTIN_APPS } from './apps/index.js'
export { checkInputFiles, removeIntermediateFiles, intermediateName, outputName } from './job-files.js'
export { ihash, partitionOf } from './partition.js'
export { FRAMEWORK_COUNTERS, MAX_APP_COUNTERS } from './counters.js'
export { MapReduceError, AppRecordError, type MapReduceErrorCode } from './errors.js'
export type {
  KeyValue,
  TaskContext,
  MapContext,
  MapResult,
  ByteRange,
  MapInput,
  MapFunction,
  ReduceFunction,
  MapReduceApp,
  TaskKind,
  Assignment,
  TaskReport,
  Counters,
} from './types.js'
