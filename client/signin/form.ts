/**
 * What the sign-in and set-up pages share: a JSON POST that answers the service's coded errors,
 * and the NHS.UK error summary (a list of links to the fields at fault, focused on submit).
 */
import { byId, fieldError, focusOn } from '../console/dom.js';

export interface Refusal { status: number; code: string; message: string }
export type Answer<T> = { ok: true; data: T } | { ok: false; error: Refusal };

export async function send<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<Answer<T>> {
  try {
    const res = await fetch(url, {
      method, credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (res.ok) return { ok: true, data: json as T };
    return { ok: false, error: { status: res.status, code: json.error?.code ?? 'internal', message: json.error?.message ?? 'Something went wrong. Try again.' } };
  } catch {
    return { ok: false, error: { status: 0, code: 'offline', message: 'We could not reach the service. Check your connection and try again.' } };
  }
}

/** A problem to show: on a field (its input's id), or about the whole form. */
export interface Problem { field?: string; message: string }

/** Shows the problems in the summary and beside their fields, and focuses the summary; none clears it. */
export function showProblems(fields: readonly string[], problems: readonly Problem[]): void {
  for (const id of fields) fieldError(byId<HTMLInputElement>(id), problems.find((p) => p.field === id)?.message ?? '');
  const summary = byId('error-summary');
  const list = byId('error-summary-list');
  list.replaceChildren(...problems.map((p) => {
    const li = document.createElement('li');
    if (p.field) {
      const a = document.createElement('a');
      a.href = `#${p.field}`;
      a.textContent = p.message;
      a.addEventListener('click', (e) => {
        e.preventDefault();
        byId(p.field as string).focus();
      });
      li.append(a);
    } else li.textContent = p.message;
    return li;
  }));
  summary.hidden = problems.length === 0;
  if (problems.length) focusOn(summary);
}

export const value = (id: string) => byId<HTMLInputElement>(id).value;

/** Whether `code` looks like an authenticator's 6 digits (spaces allowed, as apps show them). */
export const sixDigits = (code: string) => /^\d{6}$/.test(code.replace(/\s/g, ''));
