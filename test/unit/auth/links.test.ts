import { describe, expect, it } from 'vitest';
import { linkError, linkRefusal, redeemRefusal } from '../../../server/auth/links.js';
import type { LinkRecord } from '../../../server/store/store.js';

const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const fresh: LinkRecord = { codeHash: 'h', consultationId: 'c1', participantId: 'p1', expiresAt: T0 + 1000, redeemedAt: null, revokedAt: null };

describe('link rules', () => {
  it('lets a fresh link be redeemed until its expiry, not at it', () => {
    expect(linkRefusal(fresh, T0)).toBeUndefined();
    expect(linkRefusal(fresh, T0 + 999)).toBeUndefined();
    expect(linkRefusal(fresh, T0 + 1000)).toBe('expired');
    expect(linkRefusal(fresh, T0 + 5000)).toBe('expired');
  });

  it('calls a redeemed or revoked link used, even once it has also expired', () => {
    for (const link of [{ ...fresh, redeemedAt: T0 }, { ...fresh, revokedAt: T0 }]) {
      expect(linkRefusal(link, T0 + 1)).toBe('used');
      expect(linkRefusal(link, T0 + 5000)).toBe('used');
    }
  });

  it('says an expired link expired even when its consultation expired with it, and an ended consultation ended', () => {
    expect(redeemRefusal(fresh, 'expired', T0 + 1000)).toBe('expired');
    expect(redeemRefusal(fresh, 'ended', T0 + 1000)).toBe('closed');
    expect(redeemRefusal(fresh, 'ended', T0)).toBe('closed');
    // Expired by the waiting timeout while its link was still valid, or after it was used: over.
    expect(redeemRefusal(fresh, 'expired', T0)).toBe('closed');
    expect(redeemRefusal({ ...fresh, redeemedAt: T0 }, 'expired', T0 + 5000)).toBe('closed');
    expect(redeemRefusal({ ...fresh, redeemedAt: T0 }, 'in_call', T0 + 1)).toBe('used');
    expect(redeemRefusal(fresh, 'created', T0)).toBeUndefined();
  });

  it('answers each refusal with its public code and status', () => {
    expect(linkError('not_found')).toMatchObject({ code: 'link_not_found', status: 404 });
    expect(linkError('used')).toMatchObject({ code: 'link_used', status: 410 });
    expect(linkError('expired')).toMatchObject({ code: 'link_expired', status: 410 });
    expect(linkError('used').message).toMatch(/already been used/);
  });
});
