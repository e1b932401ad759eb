import { describe, expect, it } from 'vitest';
import { clock, deliveryWords } from '../../../client/console/words.js';

const at = '2026-11-30T10:42:00.000Z';

describe("the console's words for a text's delivery", () => {
  it('says each delivery status in words a receptionist can act on', () => {
    const words = (status: 'sending' | 'delivered' | 'permanent_failure' | 'temporary_failure' | 'technical_failure') =>
      deliveryWords({ status: 'created', smsDelivery: { status, at } });
    expect(words('delivered')).toEqual({ text: `Text delivered ${clock(at)}`, failed: false });
    expect(words('sending')).toEqual({ text: `Text sent ${clock(at)}, not delivered yet`, failed: false });
    expect(words('permanent_failure')).toEqual({ text: 'Text not delivered: check the number', failed: true });
    expect(words('temporary_failure')?.text).toMatch(/^Text not delivered yet: the phone may be off/);
    expect(words('technical_failure')?.failed).toBe(true);
  });

  it('says nothing once the patient has opened the link, or when nothing is known', () => {
    expect(deliveryWords({ status: 'waiting', smsDelivery: { status: 'permanent_failure', at } })).toBeUndefined();
    expect(deliveryWords({ status: 'created', smsDelivery: null })).toBeUndefined();
    expect(deliveryWords({ status: 'created' })).toBeUndefined();
  });
});
