/**
 * The media path of each live consultation (issue #17). Two people in the call: their pages are
 * told to try a direct connection (`mediaPath` p2p, naming the peer and who is polite); anything
 * else: the SFU. The pages keep the SFU connected and decide themselves when media has moved
 * (client/call/path.ts); the server only relays what they say to each other, and only between
 * the two it paired. A page that gives up on the direct connection tells its peer (`state: sfu`):
 * that pair stays on the SFU until one of them joins afresh.
 */
import type { MediaPathInfo } from '../../signalling/events.js';
import type { P2pSignalPayload } from '../../signalling/schemas.js';
import { iceServersFor } from '../auth/turn.js';
import type { LiveConsultation } from '../consultations/live.js';
import type { LiveConsultations } from '../consultations/live-registry.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { TypedServer } from './signalling.js';

export type P2pMode = 'off' | 'prefer' | 'relay';

/**
 * After a third person leaves, how long the two wait before going direct again: a guest who drops
 * and rejoins within it causes no switch at all.
 */
export const P2P_HOLD_MS = 5_000;

interface Peer {
  id: string;
  socketId: string;
}

/**
 * `sfu`: media through the SFU (`crowded` while three or more are in, for the hold; `failed` names
 * the pair whose direct connection gave up); `hold`: two again, waiting out the hold; `p2p`: the
 * pair was told to go direct (`direct`: which of them show the other's media from it).
 */
type PathState =
  | { path: 'sfu'; crowded: boolean; failed?: string }
  | { path: 'hold'; timer: ReturnType<typeof setTimeout> }
  | { path: 'p2p'; pair: [Peer, Peer]; key: string; direct: Set<string> };

export interface PathDeps {
  mode: P2pMode;
  turnUrls: readonly string[];
  turnSecret: string | undefined;
  iceTransportPolicy: 'all' | 'relay';
  now: () => number;
  logger: Logger;
  metrics?: Metrics | undefined;
  holdMs?: number;
}

export class MediaPaths {
  private readonly states = new Map<string, PathState>();
  private readonly enabled: boolean;

  constructor(
    private readonly io: TypedServer,
    live: LiveConsultations,
    private readonly deps: PathDeps,
  ) {
    // Relay-only P2P without a TURN server could never connect: every call stays on the SFU.
    this.enabled = deps.mode === 'prefer' || (deps.mode === 'relay' && deps.turnUrls.length > 0 && deps.turnSecret !== undefined);
    if (deps.mode === 'relay' && !this.enabled) deps.logger.warn('P2P_MODE=relay needs TURN_URLS and TURN_SECRET: every call stays on the SFU');
    if (!this.enabled) return;
    live.on('roomChanged', (l) => this.decide(l));
    live.on('closed', (l) => {
      const s = this.states.get(l.id);
      if (s?.path === 'hold') clearTimeout(s.timer);
      this.states.delete(l.id);
      this.count();
    });
  }

  /** Relays one page's signal to its peer, if the two are the pair told to go direct. */
  relay(consultationId: string, from: Peer, p: P2pSignalPayload): void {
    const s = this.states.get(consultationId);
    const peer = s?.path === 'p2p' ? s.pair.find((q) => q.id === p.to) : undefined;
    const self = s?.path === 'p2p' ? s.pair.find((q) => q.id === from.id) : undefined;
    if (s?.path !== 'p2p' || !peer || !self || self.socketId !== from.socketId || peer.id === self.id) {
      throw new AppError('invalid_state', 'There is no direct connection to that person.');
    }
    const { to: _to, ...rest } = p;
    this.io.local.to(peer.socketId).emit('p2pSignal', { ...rest, from: from.id });
    if (p.state === 'direct' && !s.direct.has(from.id)) {
      s.direct.add(from.id);
      if (s.direct.size === 1) this.deps.metrics?.mediaPathSwitches.inc({ to: 'p2p' });
      this.count();
    } else if (p.state === 'sfu') {
      // A page gave up on the direct connection (failed, too slow, or frozen): both stay on the SFU.
      this.deps.metrics?.p2pFallbacks.inc();
      if (s.direct.size > 0) this.deps.metrics?.mediaPathSwitches.inc({ to: 'sfu' });
      this.states.set(consultationId, { path: 'sfu', crowded: false, failed: s.key });
      this.count();
    }
  }

  private decide(live: LiveConsultation): void {
    if (live.isClosed) return;
    const members = live.view().members;
    const admitted = members.filter((m) => m.presence === 'admitted');
    // A third person waiting is about to be admitted: the two go back to the SFU now, so nothing
    // switches when they are let in (and their SFU senders are warm by then).
    const third = members.some((m) => m.presence === 'waiting');
    const peers = admitted.flatMap((m) => {
      const socketId = this.socketOf(live.id, m.id);
      return socketId ? [{ id: m.id, socketId }] : [];
    });
    const current = this.states.get(live.id) ?? { path: 'sfu', crowded: false };
    if (admitted.length !== 2 || peers.length !== 2 || third) {
      if (current.path === 'hold') clearTimeout(current.timer);
      if (current.path === 'p2p') this.toSfu(current);
      const crowded = admitted.length > 2 || (admitted.length === 2 && (third || (current.path === 'sfu' && current.crowded)));
      this.states.set(live.id, { path: 'sfu', crowded });
      this.count();
      return;
    }
    const pair = (peers[0]!.id < peers[1]!.id ? [peers[0]!, peers[1]!] : [peers[1]!, peers[0]!]) as [Peer, Peer];
    const key = pair.map((q) => `${q.id}@${q.socketId}`).join(' ');
    if (current.path === 'hold' || (current.path === 'p2p' && current.key === key)) return;
    if (current.path === 'sfu' && current.failed === key) return;
    if (current.path === 'sfu' && current.crowded) {
      const timer = setTimeout(() => {
        this.states.set(live.id, { path: 'sfu', crowded: false });
        this.decide(live);
      }, this.deps.holdMs ?? P2P_HOLD_MS);
      timer.unref();
      this.states.set(live.id, { path: 'hold', timer });
      return;
    }
    const { turnUrls, turnSecret, now, mode, iceTransportPolicy } = this.deps;
    for (const [i, self] of pair.entries()) {
      const peer = pair[1 - i]!;
      const info: MediaPathInfo = {
        path: 'p2p', peerId: peer.id, polite: i === 0,
        iceServers: iceServersFor(turnUrls, turnSecret, self.id, now()),
        iceTransportPolicy: mode === 'relay' ? 'relay' : iceTransportPolicy,
      };
      this.io.local.to(self.socketId).emit('mediaPath', info);
    }
    this.states.set(live.id, { path: 'p2p', pair, key, direct: new Set() });
    this.count();
  }

  private toSfu(s: Extract<PathState, { path: 'p2p' }>): void {
    for (const q of s.pair) this.io.local.to(q.socketId).emit('mediaPath', { path: 'sfu' });
    if (s.direct.size > 0) this.deps.metrics?.mediaPathSwitches.inc({ to: 'sfu' });
  }

  /** The participant's newest connection that has joined this consultation. */
  private socketOf(consultationId: string, participantId: string): string | undefined {
    const rooms = this.io.sockets.adapter.rooms;
    const joined = rooms.get(consultationId);
    const mine = [...(rooms.get(`participant:${participantId}`) ?? [])].filter((id) => joined?.has(id));
    return mine.at(-1);
  }

  /** Consultations by the path their media takes now (p2p once a page shows direct media). */
  private count(): void {
    const m = this.deps.metrics;
    if (!m) return;
    let p2p = 0;
    for (const s of this.states.values()) if (s.path === 'p2p' && s.direct.size > 0) p2p += 1;
    m.mediaPathConsultations.set({ path: 'p2p' }, p2p);
    m.mediaPathConsultations.set({ path: 'sfu' }, this.states.size - p2p);
  }
}
