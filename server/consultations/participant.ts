/**
 * A participant's presence in a live consultation, as a union with a transition table.
 * Presence only moves forward, except that a connected participant may drop to `reconnecting`
 * and come back.
 */
import type { Presence } from '../../signalling/vocabulary.js';
import { AppError } from '../errors.js';

export { type Presence, type Role, roles } from '../../signalling/vocabulary.js';

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
