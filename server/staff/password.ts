/**
 * Local accounts' passwords: scrypt (RFC 7914, memory-hard), Node's own, run on the thread pool
 * (the async API) so a sign-in never stalls calls. The hash carries its parameters
 * (`scrypt$N$r$p$salt$hash`, base64url), so they can be raised later and old hashes still verify.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export interface ScryptParams { N: number; r: number; p: number }

/** 2^17 × 128 × 8 bytes = 128 MiB per hash: OWASP's first scrypt choice. */
export const DEFAULT_PARAMS: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/** Room for the work area (128·N·r) and Node's own use; scrypt refuses past it rather than grow. */
const maxmemFor = ({ N, r }: ScryptParams) => 128 * N * r + 32 * 1024 * 1024;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { ...params, maxmem: maxmemFor(params) }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Why a password would not do, in words for the person choosing it; undefined if it does. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN) return `Choose a password of at least ${PASSWORD_MIN} characters.`;
  if (password.length > PASSWORD_MAX) return `Choose a password of at most ${PASSWORD_MAX} characters.`;
  return undefined;
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

const ENCODED = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

/** Whether `password` is the one `encoded` was made from (constant time); false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = ENCODED.exec(encoded);
  if (!m || password.length > PASSWORD_MAX) return false;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5] as string, 'base64url');
  const key = await derive(password, Buffer.from(m[4] as string, 'base64url'), params);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing anyone knows: verified against for an unknown e-mail, so the answer takes as long. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(24).toString('base64url'));
  return dummy;
}
