/**
 * One-time link codes: 128 random bits, base64url (22 characters), stored only as a SHA-256
 * hash. The code itself exists only in the SMS and in the URL the person opens.
 */
import { createHash, randomBytes } from 'node:crypto';

export const CODE_BYTES = 16;
/** base64url of 16 bytes, no padding. */
export const CODE_PATTERN = '^[A-Za-z0-9_-]{22}$';
const codeRe = new RegExp(CODE_PATTERN);

export function newCode(): string {
  return randomBytes(CODE_BYTES).toString('base64url');
}

export function isWellFormedCode(code: string): boolean {
  return codeRe.test(code);
}

/** 128 bits of entropy need no salt or stretching: the hash only keeps a stolen DB from holding live links. */
export function hashCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

export function newId(): string {
  return randomBytes(12).toString('base64url');
}
