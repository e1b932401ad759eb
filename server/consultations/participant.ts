/**
 * A participant's presence in a live consultation, as a union with a transition table.
 * Presence only moves forward, except that a connected participant may drop to `reconnecting`
 * and come back.
 */
import { AppError } from '../errors.js';

export const roles = ['patient', 'clinician', 'guest'] as const;
export type Role = (typeof roles)[number];

export type Presence =
  | 'checking' // has a session, has not pressed Join yet (not connected)
  | 'waiting' // in the waiting room
  | 'admitted' // in the call (clinicians are admitted on joining)
  | 'reconnecting' // connection dropped, within the reconnect grace
  | 'left';

const transitions: { readonly [P in Presence]: readonly Presence[] } = {
  checking: ['waiting', 'admitted', 'left'],
  waiting: ['admitted', 'reconnecting', 'left'],
  admitted: ['reconnecting', 'left'],
  reconnecting: ['waiting', 'admitted', 'left'],
  left: ['waiting', 'admitted'], // a participant may come back with the same session
};

export function movePresence(from: Presence, to: Presence): Presence {
  if (!transitions[from].includes(to)) {
    throw new AppError('invalid_state', `A participant who is ${from} cannot become ${to}.`);
  }
  return to;
}
