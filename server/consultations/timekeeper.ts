/**
 * The lifecycle timers of design.md 2.2, all from config and all durable (see deadlines.ts):
 *   link_expiry      created past its link lifetime          -> expired (link_expired)
 *   waiting_timeout  waiting longer than the maximum wait    -> expired (waiting_timeout)
 *   call_warning     the call nears its maximum length       -> everyone is warned
 *   call_limit       the call reaches its maximum length     -> ended (call_time_limit)
 *   empty_room       nobody present in a call for the grace  -> ended (room_empty)
 *   reconnect        a dropped participant did not return    -> they have left
 * Presence lives in the live consultations (live-registry.ts), which report changes here
 * (presenceChanged) and answer through the PresencePort.
 */
import type { Logger } from '../log.js';
import type { ConsultationStore, Deadline, DeadlineStore } from '../store/store.js';
import { Deadlines } from './deadlines.js';
import type { PresenceEvent } from './live.js';
import type { Consultations, StatusChange } from './service.js';

export interface LifecycleTimes {
  /** All in seconds, as configured. */
  waitingTimeout: number;
  maxCallDuration: number;
  emptyRoomGrace: number;
  reconnectGrace: number;
}

export interface PresencePort {
  /** Participants connected, or dropped but within their reconnect grace. */
  presentCount(consultationId: string): number;
  /** The reconnect grace of a participant ran out: they have left. */
  reconnectExpired(consultationId: string, participantId: string): void | Promise<void>;
  warnCallEnding(consultationId: string, endsAt: number): void;
}

/**
 * The region mode (several nodes on one store): a deadline is taken by whichever node asks first,
 * but those that depend on who is present are answered by the node that holds the consultation.
 */
export interface TimerRegion {
  /**
   * `here`: this node holds it, or no node does (then nobody is present); `elsewhere`: it was
   * sent to the node that holds it; `unknown`: the region cannot say now (Redis away): ask again shortly.
   */
  route(d: Deadline): Promise<'here' | 'elsewhere' | 'unknown'>;
  /** Of these consultations in a call, those no live node holds (their node was lost). */
  orphaned(ids: string[]): Promise<string[]>;
  /** How often each node reads the earliest deadline again (others set deadlines too). */
  pollMs: number;
}

/** The deadlines whose handling reads presence: only the node holding the consultation knows it. */
const ownersOnly: ReadonlySet<Deadline['kind']> = new Set(['empty_room', 'reconnect', 'call_warning']);

/** How long a deadline waits when the region cannot say where its consultation lives. */
const RETRY_MS = 2000;

/** Warn five minutes before the end, or a fifth of the call for short limits. */
export function warningLead(maxCallSeconds: number): number {
  return Math.min(300, Math.floor(maxCallSeconds / 5));
}

export class Timekeeper {
  private readonly deadlines: Deadlines;

  constructor(
    store: DeadlineStore & Pick<ConsultationStore, 'listByStatus'>,
    private readonly consultations: Consultations,
    private readonly times: LifecycleTimes,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly presence: PresencePort,
    private readonly region?: TimerRegion,
  ) {
    const failed = (err: unknown) => this.logger.error({ err }, 'lifecycle timers failed');
    this.deadlines = new Deadlines(store, now, (d) => this.onDue(d), failed, region?.pollMs);
    // Events give no way to wait for their listeners: each logs its own failure.
    consultations.on('expiryChanged', ({ id, expiresAt }) => void this.deadlines.set(id, 'link_expiry', expiresAt).catch(failed));
    consultations.on('statusChanged', (change) => void this.onStatus(change).catch(failed));
    this.listInCall = async () => (await store.listByStatus('in_call')).map((c) => c.id);
  }

  private readonly listInCall: () => Promise<string[]>;

  /** Starts the clock. After a restart nobody is connected: calls get their empty-room grace. */
  async start(): Promise<void> {
    await this.adoptOrphans();
    await this.deadlines.start();
  }

  /**
   * Calls nobody holds (after a restart, or whose node was lost) get the empty-room grace: a call
   * nobody comes back to ends; anyone who does come back clears it. In the region mode, calls
   * another node holds are left alone.
   */
  async adoptOrphans(): Promise<void> {
    const inCall = await this.listInCall();
    for (const id of this.region ? await this.region.orphaned(inCall) : inCall) {
      if (!(await this.deadlines.pending(id)).some((d) => d.kind === 'empty_room')) {
        await this.deadlines.set(id, 'empty_room', this.now() + (this.times.reconnectGrace + this.times.emptyRoomGrace) * 1000);
      }
    }
  }

  /** A deadline of a consultation this node holds, taken by another node (see TimerRegion). */
  ownerDue(d: Deadline): Promise<void> {
    return this.act(d);
  }

  stop(): void {
    this.deadlines.stop();
  }

  presenceChanged({ consultationId, participantId, change }: PresenceEvent): Promise<void> {
    switch (change) {
      case 'present':
        return this.participantPresent(consultationId, participantId);
      case 'dropped':
        return this.participantDropped(consultationId, participantId);
      case 'gone':
        return this.participantGone(consultationId, participantId);
    }
  }

  async participantPresent(consultationId: string, participantId: string): Promise<void> {
    await this.deadlines.clear(consultationId, 'reconnect', participantId);
    await this.deadlines.clear(consultationId, 'empty_room');
  }

  participantDropped(consultationId: string, participantId: string): Promise<void> {
    return this.deadlines.set(consultationId, 'reconnect', this.now() + this.times.reconnectGrace * 1000, participantId);
  }

  /** Someone left for good: a call with nobody left in it ends after the grace period. */
  async participantGone(consultationId: string, participantId: string): Promise<void> {
    await this.deadlines.clear(consultationId, 'reconnect', participantId);
    const c = await this.consultations.find(consultationId);
    if (c?.status === 'in_call' && this.presence.presentCount(consultationId) === 0) {
      await this.deadlines.set(consultationId, 'empty_room', this.now() + this.times.emptyRoomGrace * 1000);
    }
  }

  pending(consultationId: string): Promise<Deadline[]> {
    return this.deadlines.pending(consultationId);
  }

  private async onStatus({ id, to }: StatusChange): Promise<void> {
    const now = this.now();
    switch (to) {
      case 'waiting':
        await this.deadlines.clear(id, 'link_expiry');
        await this.deadlines.set(id, 'waiting_timeout', now + this.times.waitingTimeout * 1000);
        return;
      case 'in_call': {
        await this.deadlines.clear(id, 'link_expiry');
        await this.deadlines.clear(id, 'waiting_timeout');
        const end = now + this.times.maxCallDuration * 1000;
        const lead = warningLead(this.times.maxCallDuration);
        if (lead > 0) await this.deadlines.set(id, 'call_warning', end - lead * 1000);
        await this.deadlines.set(id, 'call_limit', end);
        return;
      }
      case 'ended':
      case 'expired':
        await this.deadlines.clear(id);
        return;
      case 'created':
        return;
    }
  }

  private async onDue(d: Deadline): Promise<void> {
    if (this.region && ownersOnly.has(d.kind)) {
      let where: 'here' | 'elsewhere' | 'unknown';
      try {
        where = await this.region.route(d);
      } catch {
        where = 'unknown';
      }
      if (where === 'elsewhere') return;
      if (where === 'unknown') {
        // Never decide presence blind: a call held on a node this one cannot reach is not empty.
        await this.deadlines.set(d.consultationId, d.kind, this.now() + RETRY_MS, d.participantId)
          .catch((err: unknown) => this.logger.error({ err, consultationId: d.consultationId }, 'lifecycle timer failed'));
        return;
      }
    }
    await this.act(d);
  }

  private async act(d: Deadline): Promise<void> {
    try {
      const c = await this.consultations.find(d.consultationId);
      if (!c) return;
      switch (d.kind) {
        case 'link_expiry':
          if (c.status === 'created') await this.consultations.expire(c.id, 'link_expired');
          return;
        case 'waiting_timeout':
          if (c.status === 'waiting') await this.consultations.expire(c.id, 'waiting_timeout');
          return;
        case 'call_warning':
          if (c.status === 'in_call') {
            this.presence.warnCallEnding(c.id, d.dueAt + warningLead(this.times.maxCallDuration) * 1000);
          }
          return;
        case 'call_limit':
          if (c.status === 'in_call') await this.consultations.end(c.id, 'system', 'call_time_limit');
          return;
        case 'empty_room':
          if (c.status === 'in_call' && this.presence.presentCount(c.id) === 0) {
            await this.consultations.end(c.id, 'system', 'room_empty');
          }
          return;
        case 'reconnect':
          await this.presence.reconnectExpired(c.id, d.participantId);
          return;
      }
    } catch (err) {
      this.logger.error({ err, consultationId: d.consultationId, deadline: d.kind }, 'lifecycle timer failed');
    }
  }
}
