/**
 * Ephemeral TURN credentials (the TURN REST API that coturn's `use-auth-secret` checks):
 * username `expiry:participant`, password base64(HMAC-SHA1(secret, username)).
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from '../../signalling/events.js';

/** At most two hours, whatever the caller asks. */
export const MAX_TURN_TTL_SECONDS = 2 * 3600;

export function turnCredentials(secret: string, participantId: string, nowMs: number, ttlSeconds = MAX_TURN_TTL_SECONDS) {
  const expiry = Math.floor(nowMs / 1000) + Math.min(ttlSeconds, MAX_TURN_TTL_SECONDS);
  const username = `${expiry}:${participantId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

export function iceServersFor(urls: readonly string[], secret: string | undefined, participantId: string, nowMs: number): IceServer[] {
  if (urls.length === 0 || !secret) return [];
  return [{ urls: [...urls], ...turnCredentials(secret, participantId, nowMs) }];
}
