import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashCode, isWellFormedCode, newCode } from '../../../server/auth/codes.js';

describe('link codes', () => {
  it('never repeats a code in 1000 draws', () => {
    const codes = Array.from({ length: 1000 }, () => newCode());
    expect(new Set(codes).size).toBe(1000);
  });

  it('is 22 base64url characters carrying 128 bits', () => {
    for (let i = 0; i < 1000; i++) {
      const code = newCode();
      expect(code).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(code, 'base64url')).toHaveLength(16);
      expect(Buffer.from(code, 'base64url').toString('base64url')).toBe(code);
      expect(isWellFormedCode(code)).toBe(true);
    }
  });

  it('uses every base64url character, not a narrower alphabet', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => newCode()).join(''));
    expect(seen.size).toBe(64);
  });

  it('stores a code as its sha256 hex digest', () => {
    const code = newCode();
    const h = hashCode(code);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).toBe(createHash('sha256').update(code, 'utf8').digest('hex'));
    expect(hashCode(code)).toBe(h);
    expect(h).not.toBe(code);
    expect(h).not.toContain(code);
    expect(hashCode(newCode())).not.toBe(h);
  });

  it.each([
    ['empty', ''],
    ['21 characters', 'a'.repeat(21)],
    ['23 characters', 'a'.repeat(23)],
    ['a plus sign (base64, not base64url)', `${'a'.repeat(21)}+`],
    ['a slash', `${'a'.repeat(21)}/`],
    ['padding', `${'a'.repeat(21)}=`],
    ['a space', `${'a'.repeat(21)} `],
    ['a trailing newline', `${'a'.repeat(22)}\n`],
    ['a non-ASCII letter', `${'a'.repeat(21)}é`],
    ['a path traversal', '../../../../etc/passwd1'],
  ])('rejects a code with %s', (_what, code) => {
    expect(isWellFormedCode(code)).toBe(false);
  });
});
