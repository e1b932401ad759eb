import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_TURN_TTL_SECONDS, iceServersFor, turnCredentials } from '../../../server/auth/turn.js';

const SECRET = 'coturn-static-auth-secret';
const NOW = Date.UTC(2026, 2, 27, 10, 0, 0, 500);
const nowSeconds = Math.floor(NOW / 1000);
const hmac = (username: string) => createHmac('sha1', SECRET).update(username).digest('base64');

describe('TURN credentials', () => {
  it('names the expiry and the participant in the username', () => {
    const { username } = turnCredentials(SECRET, 'part_1', NOW);
    const [expiry, participant] = username.split(':');
    expect(participant).toBe('part_1');
    expect(Number(expiry)).toBeGreaterThan(nowSeconds);
    expect(Number(expiry)).toBeLessThanOrEqual(nowSeconds + 2 * 3600);
  });

  it('signs the username with HMAC-SHA1 of the shared secret, as coturn checks it', () => {
    const { username, credential } = turnCredentials(SECRET, 'part_1', NOW);
    expect(credential).toBe(hmac(username));
    expect(Buffer.from(credential, 'base64')).toHaveLength(20);
  });

  it('honours a shorter lifetime', () => {
    const { username } = turnCredentials(SECRET, 'part_1', NOW, 600);
    expect(username).toBe(`${nowSeconds + 600}:part_1`);
  });

  it('caps the lifetime at two hours even when more is asked', () => {
    expect(MAX_TURN_TTL_SECONDS).toBe(7200);
    const { username } = turnCredentials(SECRET, 'part_1', NOW, 24 * 3600);
    expect(username).toBe(`${nowSeconds + 7200}:part_1`);
  });

  it('gives every join of a participant within the hour the same username, valid for more than an hour', () => {
    const first = turnCredentials(SECRET, 'part_1', NOW + 5 * 60_000);
    const again = turnCredentials(SECRET, 'part_1', NOW + 50 * 60_000);
    expect(again).toEqual(first);
    for (const at of [NOW, NOW + 59 * 60_000, NOW + 3600_000, NOW + 3599_999 + 3600_000]) {
      const expiry = Number(turnCredentials(SECRET, 'part_1', at).username.split(':')[0]);
      expect(expiry - at / 1000).toBeGreaterThan(3600);
      expect(expiry - at / 1000).toBeLessThanOrEqual(7200);
    }
    expect(turnCredentials(SECRET, 'part_1', NOW + 3600_000).username).not.toBe(first.username);
  });

  it('gives different participants different credentials', () => {
    expect(turnCredentials(SECRET, 'a', NOW).credential).not.toBe(turnCredentials(SECRET, 'b', NOW).credential);
  });

  it('offers TURN servers with credentials only when URLs and a secret are configured', () => {
    const urls = ['turn:turn.example.org:3478', 'turns:turn.example.org:5349'];
    const [server, ...rest] = iceServersFor(urls, SECRET, 'part_1', NOW);
    expect(rest).toEqual([]);
    expect(server?.urls).toEqual(urls);
    expect(server?.username).toBe(`${nowSeconds + 7200}:part_1`);
    expect(server?.credential).toBe(hmac(server?.username ?? ''));
    expect(iceServersFor([], SECRET, 'part_1', NOW)).toEqual([]);
    expect(iceServersFor(urls, undefined, 'part_1', NOW)).toEqual([]);
  });
});
