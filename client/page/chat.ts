/** The call's text messages: for this call only, cleared when it ends. */
import type { ChatMessage } from '../../signalling/events.js';
import { request, type SignalSocket } from '../signal.js';
import { el, setText } from './dom.js';

export class Chat {
  constructor(
    private readonly socket: SignalSocket,
    /** This person's participant id, to show their own messages as "You". */
    private readonly selfId: () => string,
  ) {
    el('chat-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.send();
    });
  }

  show(m: ChatMessage): void {
    const li = document.createElement('li');
    const from = document.createElement('span');
    from.className = 'oc-chat-from';
    from.textContent = `${m.fromId === this.selfId() ? 'You' : m.from}: `;
    li.append(from, m.text);
    el('chat-log').append(li);
    li.scrollIntoView({ block: 'nearest' });
  }

  clear(): void {
    el('chat-log').replaceChildren();
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
