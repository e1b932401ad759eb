/**
 * The live consultations of this process, made on first join and forgotten when they close.
 * It is the one place a consultation's end reaches its live side (one `statusChanged` listener),
 * it carries every live consultation's events (LiveEvents), and it answers the timers'
 * questions about presence (the PresencePort).
 */
import { EventEmitter, once } from 'node:events';
import type { EndReason } from '../../signalling/vocabulary.js';
import { isTerminal } from './lifecycle.js';
import { type LiveDeps, type LiveEvents, LiveConsultation } from './live.js';
import type { PresencePort } from './timekeeper.js';

export type { PresenceEvent } from './live.js';

export class LiveConsultations extends EventEmitter<LiveEvents> implements PresencePort {
  private readonly live = new Map<string, LiveConsultation>();
  private readonly deps: LiveDeps;

  constructor(deps: Omit<LiveDeps, 'events'>) {
    super();
    this.deps = { ...deps, events: this };
    deps.consultations.on('statusChanged', ({ id, to, reason }) => {
      if (isTerminal(to)) this.ended(id, reason ?? 'ended_by_api');
    });
    deps.consultations.on('sessionsRevoked', ({ id, participantId }) => this.revoked(id, participantId));
    this.on('closed', (live) => {
      if (this.live.get(live.id) === live) this.live.delete(live.id);
    });
  }

  /**
   * The live consultation `id`, made on first use; refused once it has ended. Looked up again
   * after every wait, so two joins at once always share one.
   */
  async open(id: string): Promise<LiveConsultation> {
    await this.deps.consultations.ensureOpen(id);
    let live = this.live.get(id);
    if (!live) {
      live = new LiveConsultation(id, this.deps);
      this.live.set(id, live);
    }
    return live;
  }

  find(id: string): LiveConsultation | undefined {
    return this.live.get(id);
  }

  /** Resolves once no consultation is live on this node, or after `ms` (a drain's grace). */
  async emptied(ms: number): Promise<void> {
    const timeUp = AbortSignal.timeout(ms);
    try {
      // The registry's own `closed` listener (made first) has forgotten the closed one by then.
      while (this.live.size > 0) await once(this, 'closed', { signal: timeUp });
    } catch {
      // The grace ran out: whoever is still here is handed over.
    }
  }

  /** How many consultations are live on this node (its load). */
  get size(): number {
    return this.live.size;
  }

  all(): LiveConsultation[] {
    return [...this.live.values()];
  }

  /** The consultation ended or expired (here, or on another node): its live side closes, if it is here. */
  ended(id: string, reason: EndReason): void {
    this.live.get(id)?.close(reason);
  }

  /**
   * A participant's sessions were revoked (here, or on another node). The room first (its part
   * runs before the first wait), so the closing connection is no longer theirs there and does not
   * count as a drop.
   */
  revoked(id: string, participantId: string): void {
    this.live.get(id)?.remove(participantId)
      .catch((err: unknown) => this.deps.logger.error({ err, consultationId: id, participantId }, 'removal failed'));
    this.emit('revoked', id, participantId);
  }

  presentCount(consultationId: string): number {
    return this.live.get(consultationId)?.presentCount() ?? 0;
  }

  async reconnectExpired(consultationId: string, participantId: string): Promise<void> {
    await this.live.get(consultationId)?.reconnectExpired(participantId);
  }

  warnCallEnding(consultationId: string, endsAt: number): void {
    this.live.get(consultationId)?.warnCallEnding(endsAt);
  }
}
