/**
 * What became of a sent text: GOV.UK Notify's delivery statuses in our words, and when to ask
 * again for one still in flight. Notify reports a text `created`, `sending` or `pending` until the
 * phone network answers, then one final status; `sent` is its word for international messages
 * on their way (no receipt follows), so it stays `sending` here.
 */
import type { SmsDelivery } from '../../signalling/vocabulary.js';

const FROM_NOTIFY: Readonly<Record<string, SmsDelivery>> = {
  created: 'sending',
  sending: 'sending',
  pending: 'sending',
  sent: 'sending',
  delivered: 'delivered',
  'permanent-failure': 'permanent_failure',
  'temporary-failure': 'temporary_failure',
  'technical-failure': 'technical_failure',
};

/** Notify's status in our words; undefined for a word Notify may add later (ignored, never guessed). */
export function fromNotify(status: string): SmsDelivery | undefined {
  return Object.hasOwn(FROM_NOTIFY, status) ? FROM_NOTIFY[status] : undefined;
}

export const isFinal = (d: SmsDelivery): boolean => d !== 'sending';

/** Notify keeps trying a temporary failure for up to 72 hours, but a link is not worth a day's wait: stop asking after one. */
export const CHECK_FOR_MS = 24 * 60 * 60 * 1000;
/** The longest wait between two questions about one text. */
export const MAX_CHECK_GAP_MS = 60 * 60 * 1000;

/**
 * When to ask Notify again about a text sent at `sentAt`, after `checks` questions so far: the
 * first after `firstMs`, each later one twice as long after (at most an hour), none past a day.
 */
export function nextCheckAt(sentAt: number, checks: number, now: number, firstMs: number): number | null {
  const gap = Math.min(MAX_CHECK_GAP_MS, firstMs * 2 ** checks);
  const at = (checks === 0 ? sentAt : now) + gap;
  return at > sentAt + CHECK_FOR_MS ? null : at;
}
