/**
 * The consultation lifecycle (design.md 2.2) as an explicit union and a transition table.
 * Anything not in the table is refused; terminal states have no way out.
 */
import type { ConsultationStatus, EndReason } from '../../signalling/vocabulary.js';
import { AppError } from '../errors.js';

export { type ConsultationStatus, consultationStatuses } from '../../signalling/vocabulary.js';

const transitions: { readonly [S in ConsultationStatus]: readonly ConsultationStatus[] } = {
  created: ['waiting', 'expired', 'ended'],
  waiting: ['in_call', 'expired', 'ended'],
  in_call: ['ended'],
  ended: [],
  expired: [],
};

export function canTransition(from: ConsultationStatus, to: ConsultationStatus): boolean {
  return transitions[from].includes(to);
}

/** Returns `to`, or throws `invalid_state` naming both ends. */
export function transition(from: ConsultationStatus, to: ConsultationStatus): ConsultationStatus {
  if (!canTransition(from, to)) {
    throw new AppError('invalid_state', `A consultation that is ${from} cannot become ${to}.`);
  }
  return to;
}

export function isTerminal(status: ConsultationStatus): boolean {
  return transitions[status].length === 0;
}

/** Why a consultation ended or expired: stored, shown in the audit log and told to clients. */
export type CloseReason = EndReason;
