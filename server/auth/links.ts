/**
 * The rules of one-time links: when one may be redeemed, and what a person is told when it may
 * not. The store applies the same rule inside its consume statement (one statement, so two
 * redemptions cannot both win); `linkRefusal` names why one was refused.
 */
import { type ConsultationStatus, isTerminal } from '../consultations/lifecycle.js';
import { AppError } from '../errors.js';
import type { LinkRecord } from '../store/store.js';

/** Why a link that exists cannot be redeemed. */
export type LinkRefusal = 'used' | 'expired';

/** Why `link` cannot be redeemed at `now`, or undefined if it can. A used link says so even after its expiry. */
export function linkRefusal(link: LinkRecord, now: number): LinkRefusal | undefined {
  if (link.redeemedAt !== null || link.revokedAt !== null) return 'used';
  if (link.expiresAt <= now) return 'expired';
  return undefined;
}

/**
 * Why `link` cannot be redeemed at `now` with its consultation in `status`, or undefined if it
 * can. The order is what the person holding it should read: a link past its expiry says it
 * expired (and how to get a new one) even though its consultation expired with it; a
 * consultation that is over for any other reason says so, even to a used link.
 */
export function redeemRefusal(link: LinkRecord, status: ConsultationStatus, now: number): LinkRefusal | 'closed' | undefined {
  const refusal = linkRefusal(link, now);
  if (status === 'expired' && refusal === 'expired') return refusal;
  return isTerminal(status) ? 'closed' : refusal;
}

const refusals = {
  not_found: ['link_not_found', 'This link is not valid. Check it was copied in full, or ask the practice for a new one.'],
  used: ['link_used', 'This link has already been used. Ask the practice for a new one.'],
  expired: ['link_expired', 'This link has expired. Ask the practice for a new one.'],
} as const;

/** The coded error for a link that is unknown (or not a code at all), used, or expired. */
export function linkError(reason: keyof typeof refusals): AppError {
  const [code, message] = refusals[reason];
  return new AppError(code, message);
}
