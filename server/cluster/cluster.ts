/**
 * The nodes of a region (design.md 2.3). Each live consultation lives on one node, signalling and
 * media together; the cluster says which, places a consultation that is nowhere (or whose node
 * is lost) on the least-loaded node that is not draining, carries the few messages one node must
 * send another about a consultation, and lets any node read what the console shows of a room.
 *
 * Two implementations: `SingleNode` (single.ts: one process, everything is here, nothing to
 * run) and the Redis one (redis/: REDIS_URL). Pages reach a node through the load balancer at
 * `/node/<NODE_ID>/` (nodeSocketPath); a node that is asked for a consultation placed elsewhere
 * answers `moved` with that node's socket.io path, and the page connects there.
 */
import type { EventEmitter } from 'node:events';
import type { ServerOptions } from 'socket.io';
import type { EndReason, Presence, Role } from '../../signalling/vocabulary.js';
import type { Deadline } from '../store/store.js';

/** Where a consultation's live side is: this node, or another (alive) one. */
export type Placement = { where: 'here' } | { where: 'elsewhere'; node: string };

/** Messages between nodes, each about one consultation: the node that acts sends, its owner reacts. */
export interface ClusterMessages {
  /** It ended or expired (the API, a timer or a clinician on another node). */
  closed: { id: string; reason: EndReason };
  /** A participant's sessions were revoked (re-sent link, removal) on another node. */
  revoked: { id: string; participantId: string };
  /** A deadline that needs the owner's view of presence (empty room, reconnect, call warning), taken on another node. */
  due: Deadline;
  /** The patient asked (through another node) to be phoned instead: the holder tells the clinician's page. */
  callback: { id: string; at: number };
}
export type ClusterMessage = keyof ClusterMessages;

/** What the console and the API show of a live room, readable from any node. */
export interface RoomView {
  members: { id: string; role: Role; presence: Presence; waitingSince?: number | undefined }[];
}

/** Things that happen to the region, as this node sees them. */
export interface ClusterEvents {
  message: { [K in ClusterMessage]: [type: K, body: ClusterMessages[K]] }[ClusterMessage];
  /** A node stopped reporting (lost, not drained): its calls need new homes. Seen by one node. */
  nodeLost: [node: string];
  /** Another node took over a consultation this node still holds (after a partition): let it go. */
  displaced: [consultationId: string];
  /** This node placed a consultation (on itself or another node); `from`: the lost node it held it before, if any (metrics). */
  placed: [consultationId: string, on: string, from: string | null];
}

export interface NodeStatus {
  id: string;
  /** Live consultations it holds. */
  load: number;
  draining: boolean;
}

export interface Cluster extends EventEmitter<ClusterEvents> {
  readonly nodeId: string;
  /** Whether other nodes may exist (REDIS_URL): the single node skips every cross-node step. */
  readonly multiNode: boolean;
  /** Where `consultationId` lives; places it if it lives nowhere or its node is lost. */
  place(consultationId: string): Promise<Placement>;
  /** The live node holding `consultationId`, if any (no placement: nobody holds it). */
  ownerOf(consultationId: string): Promise<string | undefined>;
  /** This node no longer holds it (it closed, or the node hands it over). */
  release(consultationId: string): Promise<void>;
  /** To every other node (the owner reacts); delivered once Redis is back if it is away. */
  send<K extends ClusterMessage>(type: K, body: ClusterMessages[K]): void;
  /** This node's room changed (undefined: the room closed). */
  publishRoom(consultationId: string, view: RoomView | undefined): void;
  /** Views of rooms held on other nodes (rooms held here are read from this node's own rooms). */
  remoteRooms(consultationIds: readonly string[]): Promise<Map<string, RoomView>>;
  /** New consultations go to other nodes from now on (calls here go on). */
  drain(): Promise<void>;
  /** The nodes alive now, for metrics and readiness. */
  nodes(): Promise<NodeStatus[]>;
  /** Options for socket.io's Server (its adapter). */
  socketOptions(): Partial<ServerOptions>;
  /** A Redis client for the HTTP rate limits, shared by every node (@fastify/rate-limit `redis`). */
  rateLimitRedis(): unknown;
  close(): Promise<void>;
}

/** The socket.io path of a node, as the page connects to it; the load balancer routes `/node/<id>/` there. */
export function nodeSocketPath(nodeId: string): string {
  return `/node/${nodeId}/socket.io`;
}
