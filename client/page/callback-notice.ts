/**
 * Clinician: the patient asked the practice to phone them instead (issue #18), said at once
 * above the waiting room panel (role=alert, so a screen reader announces it). The
 * console, which everyone at the practice sees, is where it is marked done.
 */
import type { SignalSocket } from '../signal.js';
import { el } from './dom.js';

export const callbackNoticeId = 'callback-notice';

export class CallbackNotice {
  constructor(socket: SignalSocket) {
    socket.on('callbackRequested', ({ at }) => this.show(at));
  }

  private show(at: number): void {
    let notice = document.getElementById(callbackNoticeId);
    if (!notice) {
      notice = document.createElement('p');
      notice.id = callbackNoticeId;
      notice.className = 'oc-notice';
      notice.setAttribute('role', 'alert');
      el('waiting-panel').before(notice);
    }
    const time = new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    notice.textContent = `The patient asked to be phoned instead at ${time}: their video is not working. `
      + 'Phone them on the number the practice has, then mark it done in the console.';
  }
}
