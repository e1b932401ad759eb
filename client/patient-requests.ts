/**
 * What the patient's page asks with the link's code alone, using nothing up (issue #18): the
 * date-of-birth check before joining, and "phone me instead". Failures are RedeemErrors (the
 * service's code and plain-English message), as for redemption.
 */
import { RedeemError } from './api.js';
import type { IdentityState } from '../signalling/vocabulary.js';

async function post(path: string, body?: unknown): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new RedeemError('network', 'We could not reach the service. Check your internet connection and try again.');
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } } & Record<string, unknown>;
  if (!res.ok) throw new RedeemError(answer.error?.code ?? 'unknown', answer.error?.message ?? 'Something went wrong. Please try again.');
  return answer;
}

/** The patient's date of birth (YYYY-MM-DD) against the practice's. */
export async function confirmDateOfBirth(code: string, dateOfBirth: string): Promise<IdentityState> {
  const answer = await post(`/api/v1/links/${encodeURIComponent(code)}/identity`, { dateOfBirth });
  return answer.identity as IdentityState;
}

/** Asks the practice to phone the patient; `already`: they had asked. */
export async function askToBePhoned(code: string): Promise<{ already: boolean }> {
  const answer = await post(`/api/v1/links/${encodeURIComponent(code)}/callback`);
  return { already: answer.already === true };
}
