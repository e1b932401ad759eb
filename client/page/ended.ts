/** The ended screen: why the consultation is over, in words for the person at this end. */
import type { EndReason } from '../../signalling/events.js';
import { setText, show } from './dom.js';

const endMessages: Record<EndReason, string> = {
  ended_by_clinician: 'Your clinician has ended the consultation. You can close this page now.',
  ended_by_api: 'The practice has ended the consultation. You can close this page now.',
  link_expired: 'This consultation has expired. Contact the practice if you still need to speak to them.',
  waiting_timeout: 'Sorry, the clinician could not see you this time. The practice will contact you.',
  call_time_limit: 'The consultation reached its time limit and has ended.',
  room_empty: 'Everyone has left, so the consultation has ended.',
};

export function showEnded(reason: EndReason): void {
  setText('ended-title', 'The consultation has ended');
  setText('ended-message', endMessages[reason]);
  show('ended');
}

export function showLeft(): void {
  setText('ended-title', 'You have left the consultation');
  setText('ended-message', 'To rejoin, reload this page.');
  show('ended');
}
