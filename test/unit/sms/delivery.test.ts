import { describe, expect, it } from 'vitest';
import { CHECK_FOR_MS, MAX_CHECK_GAP_MS, fromNotify, isFinal, nextCheckAt } from '../../../server/sms/delivery.js';

describe("Notify's delivery statuses", () => {
  it('reads every status Notify documents for a text, and no other', () => {
    expect(['created', 'sending', 'pending', 'sent'].map(fromNotify)).toEqual(['sending', 'sending', 'sending', 'sending']);
    expect(fromNotify('delivered')).toBe('delivered');
    expect(fromNotify('permanent-failure')).toBe('permanent_failure');
    expect(fromNotify('temporary-failure')).toBe('temporary_failure');
    expect(fromNotify('technical-failure')).toBe('technical_failure');
    expect(fromNotify('toString')).toBeUndefined();
    expect(fromNotify('accepted')).toBeUndefined();
    expect(isFinal('sending')).toBe(false);
    expect(isFinal('temporary_failure')).toBe(true);
  });
});

describe('when to ask Notify again', () => {
  it('asks first after the first wait, then twice as long each time, at most an hour apart, never after a day', () => {
    const sent = 1_000_000;
    expect(nextCheckAt(sent, 0, sent, 60_000)).toBe(sent + 60_000);
    expect(nextCheckAt(sent, 1, sent + 60_000, 60_000)).toBe(sent + 60_000 + 120_000);
    expect(nextCheckAt(sent, 3, sent + 500_000, 60_000)).toBe(sent + 500_000 + 480_000);
    expect(nextCheckAt(sent, 20, sent + 3_600_000, 60_000)).toBe(sent + 3_600_000 + MAX_CHECK_GAP_MS);
    expect(nextCheckAt(sent, 30, sent + CHECK_FOR_MS - 1_000, 60_000)).toBeNull();
  });
});
