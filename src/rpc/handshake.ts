// The handshake that opens every TCP connection, TLS or not: the caller says which cluster it
// belongs to, who it is and whom it meant to reach; the acceptor answers the same. These are the
// pure rules for both sides; the sockets are in tcp-inbound.ts and tcp-peer-link.ts. Nothing from
// a connection reaches a handler before its hello is accepted, and only a connection accepted as a
// member of the cluster (a peer) may call the peer-only services (Raft).

import { createHash } from 'node:crypto'
import type { Hello, HelloReply } from './frame.js'

/** What a cluster member presents and checks; a transport without one is a client (or a standalone server). */
export interface ClusterIdentity {
  /** The cluster, generated when it was founded and kept with every member's data. */
  readonly clusterId: string
  /** This member's data directory, random from its creation: a wiped directory comes back as another incarnation. */
  readonly incarnation: string
  /** Digest of the member list this node started with (membersDigest); '' skips the comparison. */
  readonly membersDigest: string
}

/** Tells whether a peer's data directory is the one this node knew; a reason when it is not. */
export type IncarnationCheck = (nodeId: string, incarnation: string) => string | null

export interface HandshakeRules {
  readonly self: string
  readonly cluster: ClusterIdentity | null
  /** True for the ids that may connect as peers (the other members). */
  readonly isMember: (nodeId: string) => boolean
  readonly checkIncarnation: IncarnationCheck | null
  /** Connections are mutual TLS: a peer's certificate must name the id it claims. */
  readonly tls: boolean
}

export type HelloVerdict = { readonly accepted: true; readonly peer: boolean } | { readonly accepted: false; readonly reason: string }

/** Longest id, cluster id or digest a hello may carry; anything longer is not ours. */
export const MAX_HELLO_FIELD_CHARS = 256

/** The acceptor's decision on a hello; `certificateName` is the verified CN under TLS, else null. */
export function judgeHello(rules: HandshakeRules, hello: Hello, certificateName: string | null): HelloVerdict {
  const refuse = (reason: string): HelloVerdict => ({ accepted: false, reason })
  const fields = [hello.clusterId, hello.nodeId, hello.expectedId, hello.membersDigest, hello.incarnation, hello.bootId]
  if (fields.some((field) => field.length > MAX_HELLO_FIELD_CHARS)) return refuse(`a hello field is longer than ${MAX_HELLO_FIELD_CHARS} characters`)
  if (hello.expectedId !== '' && hello.expectedId !== rules.self) return refuse(`this is node ${rules.self}, not ${hello.expectedId}`)
  const ownCluster = rules.cluster?.clusterId ?? ''
  if (hello.clusterId !== '' && ownCluster !== '' && hello.clusterId !== ownCluster) {
    return refuse(`cluster ${hello.clusterId} is not this node's cluster ${ownCluster}`)
  }
  if (!hello.asPeer) return { accepted: true, peer: false }
  if (!rules.cluster) return refuse(`${rules.self} is not a cluster member and accepts no peers`)
  if (hello.clusterId === '') return refuse('a peer must name its cluster')
  if (hello.nodeId === rules.self) return refuse(`the caller claims to be this node (${rules.self})`)
  if (!rules.isMember(hello.nodeId)) return refuse(notAMember(hello.nodeId, ownCluster))
  if (rules.tls && certificateName !== hello.nodeId) {
    return refuse(`the caller claims to be ${hello.nodeId} but its certificate names ${certificateName ?? 'nobody'}`)
  }
  if (rules.cluster.membersDigest !== '' && hello.membersDigest !== '' && hello.membersDigest !== rules.cluster.membersDigest) {
    return refuse(`${hello.nodeId} was started with another member list than ${rules.self} (check --peers on both)`)
  }
  const incarnationProblem = rules.checkIncarnation?.(hello.nodeId, hello.incarnation) ?? null
  if (incarnationProblem !== null) return refuse(incarnationProblem)
  return { accepted: true, peer: true }
}

/** The dialer's check of the acceptor's answer: null if the connection may be used, else why not. */
export function judgeHelloReply(rules: HandshakeRules, expectedId: string | null, asPeer: boolean, reply: HelloReply): string | null {
  if (!reply.accepted) return `refused: ${reply.reason}`
  if (expectedId !== null && reply.nodeId !== expectedId) return `the address is served by node ${reply.nodeId}, not ${expectedId}`
  if (!asPeer) return null
  const ownCluster = rules.cluster?.clusterId ?? ''
  if (ownCluster !== '' && reply.clusterId !== ownCluster) {
    return `node ${reply.nodeId} belongs to cluster ${reply.clusterId || '(none)'}, not ${ownCluster}`
  }
  return expectedId === null ? null : (rules.checkIncarnation?.(expectedId, reply.incarnation) ?? null)
}

/** A short digest of a member list ("id=address" pairs, in any order). */
export function membersDigest(members: Readonly<Record<string, string>>): string {
  const canonical = Object.entries(members)
    .map(([id, address]) => `${id}=${address}`)
    .sort()
    .join(',')
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16)
}

/** The refusal of a peer that is not (or no longer) a member; a removed node recognises it. */
export function notAMember(nodeId: string, clusterId: string): string {
  return `${nodeId} is not a member of cluster ${clusterId}`
}
