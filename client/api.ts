/** HTTP calls the pages make: only link redemption; everything else goes over the socket. */
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
