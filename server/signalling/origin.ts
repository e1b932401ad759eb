/**
 * Cross-site WebSocket hijacking: a page on another site can open a socket to us and the
 * browser sends our session cookie along, so the handshake checks where the page came from.
 * With PUBLIC_URL set, only its origin may connect; without it (development, tests) the page
 * must come from the host it connects to (same origin). Non-browser clients send no Origin and
 * carry no ambient cookie, so they are let through, as socket.io does by default.
 */
import type { IncomingMessage } from 'node:http';

export function originAllowed(req: Pick<IncomingMessage, 'headers'>, publicUrl: string | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (publicUrl !== undefined) return origin === new URL(publicUrl).origin;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false; // "null" (sandboxed frames, file pages) or garbage
  }
}
