// The services the Transport conformance suite registers on every member: an echo that records
// each call it serves, one that holds its reply until the test releases it (so a test decides the
// order replies come in, on any clock), one that throws, and a peer-only echo.

import type { CallContext, Transport } from '../rpc/index.js'

export const SERVICE = 'Conformance'
export const PEER_SERVICE = 'ConformancePeers'
export const ECHO = `${SERVICE}.Echo`
export const HOLD = `${SERVICE}.Hold`
export const FAIL = `${SERVICE}.Fail`
export const PEER_ECHO = `${PEER_SERVICE}.Echo`

/** One call as its handler saw it. */
export interface ServedCall {
  readonly method: string
  readonly from: string
  readonly request: Uint8Array
}

interface Gate {
  readonly arrived: Promise<void>
  readonly released: Promise<void>
  arrive(): void
  release(): void
}

function gate(): Gate {
  let arrive = (): void => {}
  let release = (): void => {}
  const arrived = new Promise<void>((resolve) => (arrive = resolve))
  const released = new Promise<void>((resolve) => (release = resolve))
  return { arrived, released, arrive, release }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

export function text(data: Uint8Array): string {
  return decoder.decode(data)
}

/** The suite's services on one member, and what they have served. */
export class ConformanceService {
  readonly served: ServedCall[] = []
  private readonly gates = new Map<string, Gate>()

  constructor(transport: Transport) {
    transport.register(SERVICE, {
      Echo: (request, context) => this.serve('Echo', request, context),
      Hold: async (request, context) => {
        const held = this.gate(text(request))
        this.serve('Hold', request, context)
        held.arrive()
        await held.released
        return request
      },
      Fail: (request) => {
        throw new Error(`refusing "${text(request)}"`)
      },
    })
    transport.register(PEER_SERVICE, { Echo: (request, context) => this.serve('PeerEcho', request, context) }, { peersOnly: true })
  }

  /** Resolves once a Hold call with request text `key` has reached its handler. */
  arrived(key: string): Promise<void> {
    return this.gate(key).arrived
  }

  /** Lets the Hold call with request text `key` reply (now, or as soon as it arrives). */
  release(key: string): void {
    this.gate(key).release()
  }

  /** Lets every Hold call that has arrived reply, so none is left waiting when a test ends. */
  releaseAll(): void {
    for (const held of this.gates.values()) held.release()
  }

  /** The text of every request `method` served, in the order they reached the handler. */
  texts(method: string): string[] {
    return this.served.filter((call) => call.method === method).map((call) => text(call.request))
  }

  private serve(method: string, request: Uint8Array, context: CallContext): Uint8Array {
    this.served.push({ method, from: context.from, request: Uint8Array.from(request) })
    return request
  }

  private gate(key: string): Gate {
    let held = this.gates.get(key)
    if (!held) {
      held = gate()
      this.gates.set(key, held)
    }
    return held
  }
}
