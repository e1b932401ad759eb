/**
 * The patient's identity check before the camera check (issue #18): their date of birth in the
 * NHS.UK date input pattern (Day, Month, Year under one legend, an error summary and an inline
 * error), checked by the service against the practice's with the link's code (nothing is used up).
 * Impossible dates are explained here; a wrong one is counted by the service, which locks the
 * link after five.
 */
import { RedeemError } from '../api.js';
import { confirmDateOfBirth } from '../patient-requests.js';
import { el, show } from './dom.js';
import { offerPhoneMe } from './phone-me.js';

type Part = 'day' | 'month' | 'year';
interface Problem {
  text: string;
  /** The fields to mark; the first gets the summary's link. */
  parts: Part[];
}

const fields: Record<Part, () => HTMLInputElement> = { day: () => el('dob-day'), month: () => el('dob-month'), year: () => el('dob-year') };

/** YYYY-MM-DD from what was typed, or what is wrong with it (the NHS.UK date input's messages). */
export function dateOfBirthFrom(typed: Record<Part, string>, today: Date): string | Problem {
  const parts = (['day', 'month', 'year'] as const);
  const missing = parts.filter((p) => typed[p].trim() === '');
  if (missing.length === 3) return { text: 'Enter your date of birth', parts: ['day', 'month', 'year'] };
  if (missing.length) return { text: `Date of birth must include a ${missing.join(' and ')}`, parts: missing };
  const [d, m, y] = parts.map((p) => typed[p].trim());
  if (!/^\d{1,2}$/.test(d as string) || !/^\d{1,2}$/.test(m as string)) return { text: 'Date of birth must be a real date', parts: ['day', 'month'] };
  if (!/^\d{4}$/.test(y as string)) return { text: 'Year must include 4 numbers', parts: ['year'] };
  const [day, month, year] = [Number(d), Number(m), Number(y)];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return { text: 'Date of birth must be a real date', parts: ['day', 'month', 'year'] };
  }
  if (date.getTime() > today.getTime()) return { text: 'Date of birth must be in the past', parts: ['day', 'month', 'year'] };
  if (year < 1900) return { text: 'Date of birth must be after 1900', parts: ['year'] };
  return `${y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function showProblem(problem: Problem | undefined): void {
  el('identity-summary').hidden = !problem;
  el('dob-error').hidden = !problem;
  el('identity-group').classList.toggle('nhsuk-form-group--error', problem !== undefined);
  for (const part of ['day', 'month', 'year'] as const) fields[part]().classList.toggle('nhsuk-input--error', problem?.parts.includes(part) ?? false);
  if (!problem) return;
  el('dob-error-text').textContent = problem.text;
  const link = el('identity-summary-link');
  link.textContent = problem.text;
  link.href = `#dob-${problem.parts[0] ?? 'day'}`;
  el('identity-summary').focus();
}

/**
 * Shows the step until the date is confirmed (resolves true), or the service refuses for good:
 * the link locked, used or expired (resolves false, with `refused` given the error to show).
 */
export function confirmIdentity(code: string, refused: (err: RedeemError) => void): Promise<boolean> {
  show('identity');
  offerPhoneMe('identity', code);
  el('identity-summary-link').addEventListener('click', (e) => {
    e.preventDefault();
    document.querySelector<HTMLInputElement>(el('identity-summary-link').hash)?.focus();
  });
  return new Promise((resolve) => {
    const form = el('identity-form');
    const submit = async (e: SubmitEvent) => {
      e.preventDefault();
      const typed = { day: fields.day().value, month: fields.month().value, year: fields.year().value };
      const date = dateOfBirthFrom(typed, new Date());
      if (typeof date !== 'string') return showProblem(date);
      const button = el('identity-button');
      button.disabled = true;
      try {
        await confirmDateOfBirth(code, date);
        showProblem(undefined);
        form.removeEventListener('submit', listener);
        resolve(true);
      } catch (err) {
        const e2 = err instanceof RedeemError ? err : new RedeemError('unknown', 'Something went wrong. Please try again.');
        if (e2.code === 'identity_mismatch' || e2.code === 'validation_failed' || e2.code === 'network' || e2.code === 'rate_limited') {
          showProblem({ text: e2.message, parts: ['day', 'month', 'year'] });
        } else {
          form.removeEventListener('submit', listener);
          refused(e2);
          resolve(false);
        }
      } finally {
        button.disabled = false;
      }
    };
    const listener = (e: SubmitEvent) => void submit(e);
    form.addEventListener('submit', listener);
  });
}
