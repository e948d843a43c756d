// The coordinator's RPC service on the wire (proto/mapreduce.proto) and its conversion to and from
// the in-memory types the scheduler and the worker use.

import { assert } from '../base/assert.js'
import { protoCodec } from '../rpc/proto.js'
import { type RpcMethod, rpcMethod } from '../rpc/service.js'
import { MapReduceError } from './errors.js'
import type { Assignment, MapInput, TaskKind, TaskReport } from './types.js'

const PROTO_FILE = 'mapreduce.proto'
export const COORDINATOR_SERVICE = 'MapReduce'

interface TaskRequestMessage {
  workerId: string
}

interface TaskAssignmentMessage {
  kind: number
  task: number
  attempt: number
  inputFile: string
  nMap: number
  nReduce: number
  skipRecords: string[]
  hasSplit: boolean
  splitStartByte: number
  splitEndByte: number
  inputFiles: string[]
}

interface TaskReportMessage {
  workerId: string
  kind: number
  task: number
  attempt: number
  ok: boolean
  frameworkCounters: Record<string, number>
  appCounters: Record<string, number>
  error: string
  hasBadRecord: boolean
  badRecord: string
}

type ReportReplyMessage = Record<string, never>

/** TaskAssignment.kind and TaskReport.kind on the wire. */
const WireKind = { Wait: 0, Map: 1, Reduce: 2, Exit: 3 } as const

export const requestTaskMethod: RpcMethod<TaskRequestMessage, TaskAssignmentMessage> = rpcMethod(
  COORDINATOR_SERVICE,
  'RequestTask',
  protoCodec(PROTO_FILE, 'lograft.mapreduce.TaskRequest'),
  protoCodec(PROTO_FILE, 'lograft.mapreduce.TaskAssignment'),
)

export const reportTaskMethod: RpcMethod<TaskReportMessage, ReportReplyMessage> = rpcMethod(
  COORDINATOR_SERVICE,
  'ReportTask',
  protoCodec(PROTO_FILE, 'lograft.mapreduce.TaskReport'),
  protoCodec(PROTO_FILE, 'lograft.mapreduce.ReportReply'),
)

export function encodeAssignment(assignment: Assignment): TaskAssignmentMessage {
  const empty = {
    task: 0,
    attempt: 0,
    inputFile: '',
    nMap: 0,
    nReduce: 0,
    skipRecords: [],
    hasSplit: false,
    splitStartByte: 0,
    splitEndByte: 0,
    inputFiles: [],
  }
  switch (assignment.kind) {
    case 'wait':
      return { ...empty, kind: WireKind.Wait }
    case 'exit':
      return { ...empty, kind: WireKind.Exit }
    case 'map':
      return {
        ...empty,
        kind: WireKind.Map,
        task: assignment.task,
        attempt: assignment.attempt,
        nReduce: assignment.nReduce,
        skipRecords: [...assignment.skipRecords],
        ...encodeMapInputs(assignment.inputs),
      }
    case 'reduce':
      return {
        ...empty,
        kind: WireKind.Reduce,
        task: assignment.task,
        attempt: assignment.attempt,
        nMap: assignment.nMap,
        skipRecords: [...assignment.skipRecords],
      }
  }
}

export function decodeAssignment(message: TaskAssignmentMessage): Assignment {
  switch (message.kind) {
    case WireKind.Wait:
      return { kind: 'wait' }
    case WireKind.Exit:
      return { kind: 'exit' }
    case WireKind.Map:
      return {
        kind: 'map',
        task: message.task,
        attempt: message.attempt,
        inputs: decodeMapInputs(message),
        nReduce: message.nReduce,
        skipRecords: message.skipRecords,
      }
    case WireKind.Reduce:
      return { kind: 'reduce', task: message.task, attempt: message.attempt, nMap: message.nMap, skipRecords: message.skipRecords }
    default:
      throw new MapReduceError('ERR_MR_PROTOCOL', `the coordinator sent an assignment of unknown kind ${message.kind}: is it a newer lograft?`)
  }
}

/**
 * A map task's inputs on the wire: one input in the fields a map task has always had (so a worker
 * that predates packing still runs it), several whole files in input_files.
 */
function encodeMapInputs(inputs: readonly MapInput[]): Partial<TaskAssignmentMessage> {
  const [first] = inputs
  assert(first !== undefined, 'a map task has inputs')
  if (inputs.length > 1) {
    assert(
      inputs.every((input) => input.split === undefined),
      'only whole files are packed into a map task',
    )
    return { inputFiles: inputs.map((input) => input.inputFile) }
  }
  const split = first.split ? { hasSplit: true, splitStartByte: first.split.startByte, splitEndByte: first.split.endByte } : {}
  return { inputFile: first.inputFile, ...split }
}

function decodeMapInputs(message: TaskAssignmentMessage): MapInput[] {
  if (message.inputFiles.length > 0) return message.inputFiles.map((inputFile) => ({ inputFile }))
  const split = message.hasSplit ? { split: { startByte: message.splitStartByte, endByte: message.splitEndByte } } : {}
  return [{ inputFile: message.inputFile, ...split }]
}

function kindToWire(kind: TaskKind): number {
  return kind === 'map' ? WireKind.Map : WireKind.Reduce
}

export function encodeReport(report: TaskReport): TaskReportMessage {
  const base = { workerId: report.workerId, kind: kindToWire(report.kind), task: report.task, attempt: report.attempt }
  if (report.ok) {
    return {
      ...base,
      ok: true,
      frameworkCounters: { ...report.counters.framework },
      appCounters: { ...report.counters.app },
      error: '',
      hasBadRecord: false,
      badRecord: '',
    }
  }
  return {
    ...base,
    ok: false,
    frameworkCounters: {},
    appCounters: {},
    error: report.error,
    hasBadRecord: report.badRecord !== null,
    badRecord: report.badRecord ?? '',
  }
}

/** Null for a report of a kind this coordinator does not know (it is ignored). */
export function decodeReport(message: TaskReportMessage): TaskReport | null {
  const kind: TaskKind | null = message.kind === WireKind.Map ? 'map' : message.kind === WireKind.Reduce ? 'reduce' : null
  if (kind === null) return null
  const base = { workerId: message.workerId, kind, task: message.task, attempt: message.attempt }
  if (message.ok) return { ...base, ok: true, counters: { framework: message.frameworkCounters, app: message.appCounters } }
  return { ...base, ok: false, error: message.error, badRecord: message.hasBadRecord ? message.badRecord : null }
}
