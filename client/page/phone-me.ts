/**
 * "I cannot get the video to work" (issue #18): on the identity and check steps, the error pages
 * and the waiting room, the patient can ask the practice to phone them instead. Each view has its
 * own block (join.html, `.oc-phone-me`); once asked, every block says what happens next.
 */
import { RedeemError } from '../api.js';
import { askToBePhoned } from '../patient-requests.js';

export type PhoneMeWhere = 'error' | 'identity' | 'check' | 'waiting';

export const askedText = 'We have asked the practice to phone you on the number they have for you. Keep your phone with you.';

const blocks = () => [...document.querySelectorAll<HTMLDetailsElement>('details.oc-phone-me')];
let asked = false;
let wired = false;

/** Shows the block of `where` (the link's `code` identifies the consultation). */
export function offerPhoneMe(where: PhoneMeWhere, code: string): void {
  if (!wired) {
    wired = true;
    for (const b of blocks()) b.querySelector('button')?.addEventListener('click', () => void ask(code));
  }
  for (const b of blocks()) if (b.dataset.where === where) b.hidden = false;
}

async function ask(code: string): Promise<void> {
  if (asked) return;
  asked = true;
  const buttons = blocks().map((b) => b.querySelector('button')).filter((b): b is HTMLButtonElement => b !== null);
  for (const b of buttons) b.disabled = true;
  say('Asking the practice…');
  try {
    await askToBePhoned(code);
    for (const b of buttons) b.hidden = true;
    say(askedText);
  } catch (err) {
    asked = false;
    for (const b of buttons) b.disabled = false;
    say(err instanceof RedeemError ? err.message : 'Something went wrong. Please call the practice.');
  }
}

function say(text: string): void {
  for (const b of blocks()) {
    const status = b.querySelector('.oc-phone-me__status');
    if (status) status.textContent = text;
  }
}
