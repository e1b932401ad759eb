import { describe, expect, it } from 'vitest';
import { checkTotp, enrolment, newTotpSecret, stepAt, TOTP_SECRET, totpAt } from '../../../server/staff/totp.js';

/** A test clock: the middle of a 30-second step. */
const T = Date.UTC(2026, 10, 30, 9, 0, 15);

describe('TOTP second factor', () => {
  it('makes 160-bit base32 secrets', () => {
    const s = newTotpSecret();
    expect(s).toMatch(TOTP_SECRET);
    expect(newTotpSecret()).not.toBe(s);
  });

  it('matches RFC 6238 test vector (SHA-1, T=59 s) within otplib', async () => {
    // RFC 6238 appendix B: secret "12345678901234567890", 59 s -> 94287082 (8 digits); 6 digits: 287082.
    const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(await totpAt(secret, 59_000)).toBe('287082');
  });

  it('accepts the current code and names its step', async () => {
    const secret = newTotpSecret();
    expect(await checkTotp(secret, await totpAt(secret, T), T, null)).toBe(stepAt(T));
  });

  it('accepts the previous and next step, not two away', async () => {
    const secret = newTotpSecret();
    expect(await checkTotp(secret, await totpAt(secret, T - 30_000), T, null)).toBe(stepAt(T) - 1);
    expect(await checkTotp(secret, await totpAt(secret, T + 30_000), T, null)).toBe(stepAt(T) + 1);
    expect(await checkTotp(secret, await totpAt(secret, T - 60_000), T, null)).toBeUndefined();
    expect(await checkTotp(secret, await totpAt(secret, T + 60_000), T, null)).toBeUndefined();
  });

  it('refuses a code replayed in its step, and an earlier step once a later one was used', async () => {
    const secret = newTotpSecret();
    const step = await checkTotp(secret, await totpAt(secret, T), T, null);
    expect(step).toBe(stepAt(T));
    expect(await checkTotp(secret, await totpAt(secret, T), T + 1000, step ?? null)).toBeUndefined();
    expect(await checkTotp(secret, await totpAt(secret, T - 30_000), T, step ?? null)).toBeUndefined();
    expect(await checkTotp(secret, await totpAt(secret, T + 30_000), T + 30_000, step ?? null)).toBe(stepAt(T) + 1);
  });

  it('refuses codes that are not six digits, without throwing', async () => {
    const secret = newTotpSecret();
    for (const code of ['', '12345', '1234567', 'abcdef', ' 123456']) expect(await checkTotp(secret, code, T, null)).toBeUndefined();
  });

  it('gives an otpauth URI and an SVG QR code to enrol', async () => {
    const secret = newTotpSecret();
    const { uri, qrSvg } = await enrolment(secret, 'a.clinician@nhs.net');
    expect(uri).toMatch(/^otpauth:\/\/totp\//);
    expect(new URL(uri).searchParams.get('secret')).toBe(secret);
    expect(qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  });
});
