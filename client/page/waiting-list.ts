/**
 * Clinician: the waiting room panel in the call, one row per person waiting with their Admit
 * and Remove buttons and a message form, and the count in the tab's title.
 */
import type { ParticipantView } from '../../signalling/events.js';
import { el, setText } from './dom.js';
import { connectionLabel } from './connection-words.js';
import { type RemoveAction, actionButton, removeButton } from './people.js';

export interface WaitingActions {
  admit(p: ParticipantView): Promise<unknown>;
  message(p: ParticipantView, text: string): Promise<unknown>;
  remove: RemoveAction;
}

export class WaitingList {
  private readonly baseTitle = document.title;

  constructor(private readonly actions: WaitingActions) {}

  render(waiting: ParticipantView[]): void {
    el('waiting-panel').hidden = waiting.length === 0;
    // Rows are updated in place, never rebuilt: this runs on every presence and media change,
    // and rebuilding would drop the keyboard focus and whatever the clinician is typing to someone.
    const list = el('waiting-list');
    const focused = document.activeElement;
    const hadFocus = focused !== null && list.contains(focused);
    const ids = new Set(waiting.map((p) => p.id));
    for (const row of [...list.children] as HTMLElement[]) if (!ids.has(row.dataset.id ?? '')) row.remove();
    for (const p of waiting) {
      const row = [...list.children].find((r) => (r as HTMLElement).dataset.id === p.id) ?? list.appendChild(this.row(p));
      const since = p.waitingSince ? new Date(p.waitingSince).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '';
      const connection = p.connection ? ` (${connectionLabel[p.connection]})` : '';
      (row.querySelector('.oc-waiting-who') as HTMLElement).textContent = `${p.name} is waiting${since ? ` since ${since}` : ''}${connection}.`;
    }
    // The row holding the focus went (the Admit button that was just used): keep the focus in the
    // call, at its heading, so the next Tab reaches the call's controls instead of the page's top.
    if (hadFocus && !focused.isConnected) el('call-title').focus({ preventScroll: true });
    this.title(waiting.length);
  }

  title(waiting: number): void {
    document.title = waiting > 0 ? `(${waiting}) waiting – ${this.baseTitle}` : this.baseTitle;
  }

  private row(p: ParticipantView): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.id = p.id;
    const label = document.createElement('span');
    label.className = 'oc-waiting-who';
    const admit = actionButton(`Admit ${p.name}`, '', () => this.actions.admit(p));
    li.append(label, ' ', admit, ' ', removeButton(p, this.actions.remove), this.messageForm(p));
    return li;
  }

  /** A short message to someone waiting, e.g. that the clinic is running late. */
  private messageForm(p: ParticipantView): HTMLFormElement {
    const form = document.createElement('form');
    form.noValidate = true;
    const id = `waiting-message-${p.id}`;
    const label = document.createElement('label');
    label.className = 'nhsuk-label';
    label.htmlFor = id;
    label.textContent = `Message to ${p.name}`;
    const input = document.createElement('input');
    input.id = id;
    input.className = 'nhsuk-input';
    input.type = 'text';
    input.maxLength = 500;
    input.autocomplete = 'off';
    const send = document.createElement('button');
    send.type = 'submit';
    send.className = 'nhsuk-button nhsuk-button--secondary nhsuk-button--small';
    send.textContent = `Send message to ${p.name}`;
    form.append(label, input, send);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      this.actions.message(p, text).then(
        () => {
          input.value = '';
          setText('call-status', `Message sent to ${p.name}.`);
        },
        (err: Error) => setText('call-status', err.message),
      );
    });
    return form;
  }
}
