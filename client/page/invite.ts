/** Clinician: create a link for an interpreter, carer or colleague; text it if a number is given. */
import { request, type SignalSocket } from '../signal.js';
import { el, setText } from './dom.js';

const smsWords = {
  sent: 'The link was sent by text message.',
  failed: 'The text message could not be sent: copy the link instead.',
  unknown: 'We could not confirm the text message was sent: check with them, or copy the link.',
  not_sent: 'Copy the link and send it to them.',
};

export class InvitePanel {
  constructor(private readonly socket: SignalSocket) {
    el('invite-panel').hidden = false;
    el('invite-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.invite();
    });
    el('copy-invite').addEventListener('click', () => {
      const link = el('invite-link');
      link.select();
      navigator.clipboard?.writeText(link.value).then(
        () => setText('invite-status', 'Link copied.'),
        () => setText('invite-status', 'Select the link and copy it.'),
      );
    });
  }

  private async invite(): Promise<void> {
    const label = el('invite-label').value;
    const name = el('invite-name').value.trim();
    const phone = el('invite-phone').value.trim();
    setText('invite-error', '');
    try {
      const r = await request(this.socket, 'invite', { label, ...(name ? { name } : {}), ...(phone ? { phone } : {}) });
      el('invite-link').value = r.url;
      el('invite-result').hidden = false;
      setText('invite-status', smsWords[r.sms]);
    } catch (err) {
      setText('invite-error', (err as Error).message);
    }
  }
}
