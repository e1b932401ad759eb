import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from '../../../server/staff/password.js';

describe('staff passwords', () => {
  it('hashes with scrypt N=2^17, r=8, p=1, a 16-byte salt and a 32-byte key, naming its parameters', async () => {
    const hash = await hashPassword('correct horse battery');
    const [alg, n, r, p, salt, key] = hash.split('$');
    expect([alg, n, r, p]).toEqual(['scrypt', String(2 ** 17), '8', '1']);
    expect(Buffer.from(salt as string, 'base64url')).toHaveLength(16);
    expect(Buffer.from(key as string, 'base64url')).toHaveLength(32);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterz', hash)).toBe(false);
  });

  it('salts each hash: the same password twice gives two hashes', async () => {
    const params = { N: 2 ** 10, r: 8, p: 1 };
    expect(await hashPassword('same password here', params)).not.toBe(await hashPassword('same password here', params));
  });

  it('verifies a hash made with other parameters, as they are written in it', async () => {
    const hash = await hashPassword('an older password', { N: 2 ** 14, r: 8, p: 1 });
    expect(hash.startsWith(`scrypt$${2 ** 14}$8$1$`)).toBe(true);
    expect(await verifyPassword('an older password', hash)).toBe(true);
  });

  it('refuses against a malformed hash instead of throwing', async () => {
    expect(await verifyPassword('whatever password', 'bcrypt$2b$10$abc')).toBe(false);
    expect(await verifyPassword('whatever password', '')).toBe(false);
  });

  it('asks for 12 to 256 characters', () => {
    expect(passwordProblem('a'.repeat(11))).toMatch(/at least 12/);
    expect(passwordProblem('a'.repeat(12))).toBeUndefined();
    expect(passwordProblem('a'.repeat(256))).toBeUndefined();
    expect(passwordProblem('a'.repeat(257))).toMatch(/at most 256/);
  });

  it('hashes off the event loop: timers keep firing while it works', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await hashPassword('correct horse battery');
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
