import { describe, expect, it } from 'vitest';
import { linkError, linkRefusal } from '../../../server/auth/links.js';
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

  it('answers each refusal with its public code and status', () => {
    expect(linkError('not_found')).toMatchObject({ code: 'link_not_found', status: 404 });
    expect(linkError('used')).toMatchObject({ code: 'link_used', status: 410 });
    expect(linkError('expired')).toMatchObject({ code: 'link_expired', status: 410 });
    expect(linkError('used').message).toMatch(/already been used/);
  });
});
