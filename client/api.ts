/** HTTP calls the pages make: link redemption and expiring a finished session's cookie; everything else goes over the socket. */
import type { Role } from '../signalling/events.js';

export interface Redeemed {
  role: Role;
  consultationId: string;
  participantId: string;
}

export class RedeemError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function redeem(code: string): Promise<Redeemed> {
  let res: Response;
  try {
    res = await fetch(`/api/v1/links/${encodeURIComponent(code)}/redeem`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
  } catch {
    throw new RedeemError('network', 'We could not reach the service. Check your internet connection and try again.');
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } } & Partial<Redeemed>;
  if (!res.ok || !body.role || !body.consultationId || !body.participantId) {
    throw new RedeemError(body.error?.code ?? 'unknown', body.error?.message ?? 'Something went wrong. Please try again.');
  }
  return { role: body.role, consultationId: body.consultationId, participantId: body.participantId };
}

/**
 * Once the consultation is over: the server expires this browser's cookies of sessions that are
 * done (a clinician collects one per consultation, and headers have a size limit). Best effort:
 * the next link does the same.
 */
export function expireDoneSessions(): void {
  fetch('/api/v1/sessions/expire-done', { method: 'POST', credentials: 'same-origin' }).catch(() => {});
}
