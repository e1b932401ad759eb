/**
 * The call's text messages: for this call only, cleared when it ends. On a phone they are a panel
 * over the call, opened by the Messages button (which counts the messages not yet seen) and
 * closed again, the focus moved into it and back; on a desktop they stay beside the picture.
 */
import type { ChatMessage } from '../../signalling/events.js';
import { request, type SignalSocket } from '../signal.js';
import { el, setText } from './dom.js';

type Panel = 'closed' | 'open';

export class Chat {
  private panel: Panel = 'closed';
  private unread = 0;

  constructor(
    private readonly socket: SignalSocket,
    /** This person's participant id, to show their own messages as "You". */
    private readonly selfId: () => string,
  ) {
    el('chat-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
    el('chat-button').addEventListener('click', () => this.toggle(this.panel === 'open' ? 'closed' : 'open'));
    el('chat-close').addEventListener('click', () => this.toggle('closed'));
    el('chat').addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.panel === 'open') this.toggle('closed');
    });
  }

  show(m: ChatMessage): void {
    const li = document.createElement('li');
    const from = document.createElement('span');
    from.className = 'oc-chat-from';
    from.textContent = `${m.fromId === this.selfId() ? 'You' : m.from}: `;
    li.append(from, m.text);
    el('chat-log').append(li);
    if (this.seen()) li.scrollIntoView({ block: 'nearest' });
    else this.count(this.unread + 1);
  }

  clear(): void {
    el('chat-log').replaceChildren();
    this.toggle('closed', false);
  }

  private toggle(panel: Panel, moveFocus = true): void {
    this.panel = panel;
    const open = panel === 'open';
    el('chat').classList.toggle('oc-chat--open', open);
    el('chat-button').setAttribute('aria-expanded', String(open));
    if (open) this.count(0);
    if (!moveFocus) return;
    if (open) {
      el('chat-input').focus();
      el('chat-log').lastElementChild?.scrollIntoView({ block: 'nearest' });
    } else {
      el('chat-button').focus();
    }
  }

  /** Whether the messages are on screen now (open on a phone, always on a desktop). */
  private seen(): boolean {
    return el('chat').getClientRects().length > 0;
  }

  private count(n: number): void {
    this.unread = n;
    const badge = el('chat-unread');
    badge.hidden = n === 0;
    // Read out as part of the button's name: "Messages, 2 new".
    const hidden = (text: string) => Object.assign(document.createElement('span'), { className: 'nhsuk-u-visually-hidden', textContent: text });
    if (n === 0) badge.replaceChildren();
    else badge.replaceChildren(hidden(', '), String(n), hidden(' new'));
  }

  private async send(): Promise<void> {
    const input = el('chat-input');
    const text = input.value.trim();
    if (!text) return;
    try {
      await request(this.socket, 'chat', { text });
      input.value = '';
    } catch (err) {
      setText('call-status', (err as Error).message);
    }
  }
}
