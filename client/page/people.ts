/**
 * Clinician: the people in the call other than the clinician, each with a "Remove <name>" button.
 * Removing someone disconnects them and ends their link and sessions (they need a new link to
 * come back); the same button sits on each waiting room row.
 */
import type { ParticipantView } from '../../signalling/events.js';
import { el, setText } from './dom.js';
import { connectionLabel } from './connection-words.js';

export type RemoveAction = (p: ParticipantView) => Promise<unknown>;

/**
 * A real button that runs `act`, inert (aria-disabled) until the answer; a refusal is said in the
 * call status. aria-disabled, not disabled: a disabled button drops the keyboard focus to the page's top.
 */
export function actionButton(text: string, style: string, act: () => Promise<unknown>, done?: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = ['nhsuk-button', style, 'nhsuk-button--small'].filter(Boolean).join(' ');
  b.textContent = text;
  b.addEventListener('click', () => {
    if (b.getAttribute('aria-disabled') === 'true') return;
    b.setAttribute('aria-disabled', 'true');
    act().then(done, (err: Error) => {
      b.removeAttribute('aria-disabled');
      setText('call-status', err.message);
    });
  });
  return b;
}

/** "Remove <name>", for a row of the waiting room or of the people in the call. */
export function removeButton(p: ParticipantView, remove: RemoveAction): HTMLButtonElement {
  return actionButton(`Remove ${p.name}`, 'nhsuk-button--secondary', () => remove(p),
    () => setText('call-status', `${p.name} has been removed from the consultation.`));
}

export class PeopleList {
  constructor(private readonly remove: RemoveAction) {}

  /** `inCall`: the others admitted or reconnecting; rows are kept in place (focus stays). */
  render(inCall: ParticipantView[]): void {
    const removable = inCall.filter((p) => p.role !== 'clinician');
    el('people-panel').hidden = removable.length === 0;
    const list = el('people-list');
    const ids = new Set(removable.map((p) => p.id));
    for (const row of [...list.children] as HTMLElement[]) if (!ids.has(row.dataset.id ?? '')) row.remove();
    for (const p of removable) {
      if ([...list.children].some((r) => (r as HTMLElement).dataset.id === p.id)) continue;
      const li = document.createElement('li');
      li.dataset.id = p.id;
      li.append(`${p.name}${p.connection ? ` (${connectionLabel[p.connection]})` : ''} `, removeButton(p, this.remove));
      list.appendChild(li);
    }
  }
}
