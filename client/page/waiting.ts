/** The waiting room screen (patients and guests), and what the practice tells them there. */
import { el, setText, show } from './dom.js';

export function showWaiting(): void {
  // The clinician sees them waiting from now on, so say so now.
  setText('waiting-status', 'Your clinician knows you are here and will let you in soon.');
  show('waiting');
}

export function showPracticeMessage(text: string): void {
  setText('practice-message', text);
  el('practice-message-box').hidden = false;
}
