/**
 * Delivery receipts: what became of each invitation text the provider gave an id for. Statuses
 * come from the provider's callbacks (server/http/notify-receipts.ts) and, for texts still in
 * flight, from asking it (the fallback for a deployment without callbacks): each text's next
 * question is a time in the store, taken by one node at a time, so a restart or another node
 * carries on where this one stopped. The first final status wins; later ones are ignored.
 */
import type { Logger } from '../log.js';
import type { SmsDeliveryRecord, SmsDeliveryStore } from '../store/store.js';
import type { SmsDelivery } from '../../signalling/vocabulary.js';
import { fromNotify, isFinal, nextCheckAt } from './delivery.js';
import type { SmsProvider } from './provider.js';

export interface DeliveryReceiptsDeps {
  store: SmsDeliveryStore;
  provider: Pick<SmsProvider, 'deliveryOf'>;
  /** Writes the final status to the consultation's audit log. */
  audit: (consultationId: string, status: SmsDelivery) => Promise<void>;
  logger: Logger;
  now: () => number;
  /** How long after sending the first question is asked (NOTIFY_STATUS_CHECK). */
  firstCheckMs: number;
}

/** Texts asked about in one go, so a backlog is worked through in steps. */
const BATCH = 20;
/** The loop looks for due questions at least this often. */
const MAX_TICK_MS = 30_000;

export class DeliveryReceipts {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private readonly deps: DeliveryReceiptsDeps) {}

  /** A text the provider took with this id: followed from now on (asked about only if the provider can tell). */
  async sent(consultationId: string, notificationId: string): Promise<void> {
    const { now, firstCheckMs, provider } = this.deps;
    const at = now();
    await this.deps.store.addSmsDelivery({
      notificationId, consultationId, sentAt: at, status: 'sending', statusAt: at,
      checkAt: provider.deliveryOf ? nextCheckAt(at, 0, at, firstCheckMs) : null, checks: 0,
    });
  }

  /**
   * A status in the provider's words (a callback). Resolves to whether it changed what we knew:
   * false for an unknown id, a word we do not know, `sending`, or a text already final.
   */
  async receive(notificationId: string, providerStatus: string, at: number): Promise<boolean> {
    const status = fromNotify(providerStatus);
    if (!status || !isFinal(status)) return false;
    return this.record(notificationId, status, at, null);
  }

  start(): void {
    if (!this.deps.provider.deliveryOf || this.timer) return;
    this.timer = setInterval(() => void this.tick(), Math.min(this.deps.firstCheckMs, MAX_TICK_MS));
    this.timer.unref();
  }

  /** Stops asking; resolves once a round in progress is over. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** One round: asks about every text whose question is due (one round at a time). */
  tick(): Promise<void> {
    this.ticking ??= this.round().finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async round(): Promise<void> {
    const { store, now, firstCheckMs, logger } = this.deps;
    let due: SmsDeliveryRecord[];
    try {
      // Taken with a lease: a question that gets no answer is asked again after it.
      due = await store.takeDueSmsChecks(now(), now() + firstCheckMs, BATCH);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'delivery checks not read');
      return;
    }
    for (const d of due) {
      try {
        const status = fromNotify(await this.deps.provider.deliveryOf!(d.notificationId));
        if (status && isFinal(status)) {
          await this.record(d.notificationId, status, now(), null);
        } else {
          await store.setSmsDelivery(d.notificationId, 'sending', d.statusAt, nextCheckAt(d.sentAt, d.checks, now(), firstCheckMs));
        }
      } catch (err) {
        logger.warn({ notificationId: d.notificationId, err: (err as Error).message }, 'delivery status not read; asking again later');
      }
    }
  }

  private async record(notificationId: string, status: SmsDelivery, at: number, checkAt: number | null): Promise<boolean> {
    const d = await this.deps.store.setSmsDelivery(notificationId, status, at, checkAt);
    if (!d) return false;
    this.deps.logger.info({ consultationId: d.consultationId, notificationId, status }, 'SMS delivery status');
    await this.deps.audit(d.consultationId, status);
    return true;
  }
}
