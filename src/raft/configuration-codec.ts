// The protobuf codec of a cluster configuration (proto/raft.proto): the data of Configuration
// entries and part of every snapshot. Kept out of the pure core, which is handed the decoder.

import { protoCodec } from '../rpc/proto.js'
import type { Configuration } from './membership.js'

export const configurationCodec = protoCodec<Configuration>('raft.proto', 'lograft.raft.Configuration')
