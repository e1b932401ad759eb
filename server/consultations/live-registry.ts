/**
 * The live consultations of this process, made on first join and forgotten when they close.
 * It is the one place a consultation's end reaches its live side (one `statusChanged` listener),
 * and it answers the timers' questions about presence (the PresencePort).
 */
import { EventEmitter } from 'node:events';
import { isTerminal } from './lifecycle.js';
import { type LiveDeps, LiveConsultation, type PresenceChange } from './live.js';
import type { PresencePort } from './timekeeper.js';

export interface PresenceEvent {
  consultationId: string;
  participantId: string;
  change: PresenceChange;
}

interface RegistryEvents {
  /** A consultation went live: the socket layer subscribes to what it tells clients. */
  opened: [LiveConsultation];
  presence: [PresenceEvent];
}

export class LiveConsultations extends EventEmitter<RegistryEvents> implements PresencePort {
  private readonly live = new Map<string, LiveConsultation>();

  constructor(private readonly deps: LiveDeps) {
    super();
    deps.consultations.on('statusChanged', ({ id, to, reason }) => {
      if (isTerminal(to)) this.live.get(id)?.close(reason ?? 'ended_by_api');
    });
  }

  /**
   * The live consultation `id`, made on first use; refused once it has ended. Looked up again
   * after every wait, so two joins at once always share one.
   */
  async open(id: string): Promise<LiveConsultation> {
    await this.deps.consultations.ensureOpen(id);
    return this.live.get(id) ?? this.create(id);
  }

  find(id: string): LiveConsultation | undefined {
    return this.live.get(id);
  }

  presentCount(consultationId: string): number {
    return this.live.get(consultationId)?.presentCount() ?? 0;
  }

  reconnectExpired(consultationId: string, participantId: string): void {
    this.live.get(consultationId)?.reconnectExpired(participantId);
  }

  warnCallEnding(consultationId: string, endsAt: number): void {
    this.live.get(consultationId)?.warnCallEnding(endsAt);
  }

  private create(id: string): LiveConsultation {
    const live = new LiveConsultation(id, this.deps);
    this.live.set(id, live);
    live.on('presence', (participantId, change) => this.emit('presence', { consultationId: id, participantId, change }));
    live.once('closed', () => {
      if (this.live.get(id) === live) this.live.delete(id);
    });
    this.emit('opened', live);
    return live;
  }
}
