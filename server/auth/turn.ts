/**
 * Ephemeral TURN credentials (the TURN REST API that coturn's `use-auth-secret` checks):
 * username `expiry:participant`, password base64(HMAC-SHA1(secret, username)).
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '../../signalling/events.js';

/** At most two hours, whatever the caller asks. */
export const MAX_TURN_TTL_SECONDS = 2 * 3600;

/**
 * The expiry is the end of the next window of half the lifetime, so every join of a participant
 * within one window gets the same username: coturn's `user-quota` counts allocations per
 * username, and a quota that a reconnect resets holds nothing. A credential is valid for more
 * than half the lifetime and at most all of it; a participant has at most two usernames alive.
 */
export function turnCredentials(secret: string, participantId: string, nowMs: number, ttlSeconds = MAX_TURN_TTL_SECONDS) {
  const window = Math.max(1, Math.floor(Math.min(ttlSeconds, MAX_TURN_TTL_SECONDS) / 2));
  const expiry = (Math.floor(nowMs / 1000 / window) + 2) * window;
  const username = `${expiry}:${participantId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

export function iceServersFor(urls: readonly string[], secret: string | undefined, participantId: string, nowMs: number): IceServer[] {
  if (urls.length === 0 || !secret) return [];
  return [{ urls: [...urls], ...turnCredentials(secret, participantId, nowMs) }];
}
