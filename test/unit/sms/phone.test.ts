import { describe, expect, it } from 'vitest';
import { maskPhone, normaliseUkMobile } from '../../../server/sms/phone.js';

describe('normaliseUkMobile', () => {
  it.each([
    '07700 900123',
    '07700900123',
    '+44 7700 900123',
    '+447700900123',
    '0044 7700 900123',
    '+44 (0)7700 900123',
    '07700-900-123',
    ' 07700 900123 ',
  ])('reads "%s" as +447700900123', (input) => {
    expect(normaliseUkMobile(input)).toEqual({ ok: true, e164: '+447700900123' });
  });

  it.each([
    ['a London landline', '020 7946 0000'],
    ['a landline in +44 form', '+44 20 7946 0000'],
    ['a number one digit short', '07700 90012'],
    ['a number one digit long', '07700 9001234'],
    ['letters', 'O77OO 9OO123'],
    ['words', 'call reception'],
    ['a foreign mobile', '+33 6 12 34 56 78'],
    ['an empty string', ''],
  ])('refuses %s with a message a receptionist understands', (_what, input) => {
    const r = normaliseUkMobile(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain('UK mobile');
  });

  it('masks a number to its last three digits', () => {
    expect(maskPhone('+447700900123')).toBe('•••• 123');
    expect(maskPhone('+447700900123')).not.toContain('7700');
  });
});
