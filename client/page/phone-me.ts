/**
 * "I cannot get the video to work" (issue #18): on the identity and check steps, the error pages
 * and the waiting room, the patient can ask the practice to phone them instead. Each view that
 * offers it has a slot (join.html, `.oc-phone-me`), filled from one template when first offered;
 * once asked, every filled slot says what happens next.
 */
import { RedeemError } from '../api.js';
import { askToBePhoned } from '../patient-requests.js';

export type PhoneMeWhere = 'error' | 'identity' | 'check' | 'waiting';

export const askedText = 'We have asked the practice to phone you on the number they have for you. Keep your phone with you.';

const filled = () => [...document.querySelectorAll<HTMLElement>('.oc-phone-me')].filter((slot) => slot.firstElementChild);
let asked = false;

/**
 * Shows the slot of `where`, open when the page has nothing better to offer (`open`, or the
 * slot's `data-open`); the link's `code` identifies the consultation.
 */
export function offerPhoneMe(where: PhoneMeWhere, code: string, opts: { open?: boolean } = {}): void {
  const slot = document.querySelector<HTMLElement>(`.oc-phone-me[data-where="${where}"]`);
  const template = document.getElementById('phone-me-template');
  if (!slot || !(template instanceof HTMLTemplateElement)) return;
  if (!slot.firstElementChild) {
    slot.append(template.content.cloneNode(true));
    slot.querySelector('button')?.addEventListener('click', () => void ask(code));
    if (asked) say(slot, askedText, true);
  }
  const details = slot.querySelector('details');
  if (details && (opts.open || slot.hasAttribute('data-open'))) details.open = true;
  slot.hidden = false;
}

async function ask(code: string): Promise<void> {
  if (asked) return;
  asked = true;
  for (const slot of filled()) say(slot, 'Asking the practice…', false, true);
  try {
    await askToBePhoned(code);
    for (const slot of filled()) say(slot, askedText, true);
  } catch (err) {
    asked = false;
    const text = err instanceof RedeemError ? err.message : 'Something went wrong. Please call the practice.';
    for (const slot of filled()) say(slot, text, false);
  }
}

/** The slot's status line; its button hidden once asked, disabled while asking. */
function say(slot: HTMLElement, text: string, done: boolean, busy = false): void {
  const status = slot.querySelector('.oc-phone-me__status');
  if (status) status.textContent = text;
  const button = slot.querySelector('button');
  if (button) {
    button.hidden = done;
    button.disabled = busy;
  }
}
