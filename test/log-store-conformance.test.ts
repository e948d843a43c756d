// lograft/testing's LogStore conformance suite against both backends LogStore ships with:
// memory-level (simulation) and classic-level in a temp directory (production).

import t from 'tap'
import { logStoreConformance } from '../src/testing/index.js'
import { diskBackend, memoryBackend } from './helpers/log.js'

logStoreConformance(t, memoryBackend)
logStoreConformance(t, diskBackend)
